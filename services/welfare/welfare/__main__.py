from unionops.service import serve
from welfare.app import app, settings

serve(app, settings.http_port, settings.http_host)
