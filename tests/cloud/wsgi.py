"""aerie test bed: serve one OpenStack WSGI application under gunicorn.

The services' WSGI modules parse the process's own argv with oslo.config; under
gunicorn that is gunicorn's command line, which they refuse. This module gives
them a bare argv, then imports the application named in AERIE_WSGI_APP
(e.g. keystone.wsgi.api).
"""
import importlib
import os
import sys

sys.argv = [os.environ.get("AERIE_WSGI_PROG", "aerie-wsgi")]
application = importlib.import_module(os.environ["AERIE_WSGI_APP"]).application
