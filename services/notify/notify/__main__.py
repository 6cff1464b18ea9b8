from notify.app import app, settings
from unionops.service import serve

serve(app, settings.http_port, settings.http_host)
