"""A name is used once in a notice: a template never appends to a name the word names already
end with (“金牛第4代表队”代表队). Every template, version and channel, with every `*_name`
variable ending in each such word."""
from __future__ import annotations

import pytest

from notify.domain.templates import TEMPLATES, ChannelRenderer, TemplateRegistry

# What names of teams, unions, contests and campaigns end with.
SUFFIXES = ("代表队", "队", "工会", "比赛", "竞赛", "活动")
CHANNELS = ("email", "sms", "webhook", "inapp")


@pytest.mark.parametrize("spec", TEMPLATES, ids=lambda s: f"{s.name}.v{s.version}")
def test_a_name_already_ending_in_its_suffix_is_not_suffixed_again(spec):
    renderer = ChannelRenderer(TemplateRegistry(defaults={"sender": "示例市总工会"}))
    for variable in (k for k in spec.sample if k.endswith("_name") and isinstance(spec.sample[k], str)):
        for suffix in SUFFIXES:
            name = f"金牛第四{suffix}"
            for channel in CHANNELS:
                rendered = renderer.render(spec.name, spec.version, channel, spec.sample | {variable: name})
                text = rendered.subject + "\n" + rendered.body
                for doubled in (name + suffix, f"{name}”{suffix}", f"{name}\"{suffix}"):
                    assert doubled not in text, (variable, channel, text)
