"""Competitions: labour and skill contests (劳动竞赛 / 职工技能比赛), entries and judging."""
