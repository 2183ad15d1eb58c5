"""gunicorn's settings for the serving tests: web.gunicorn_conf's own, read with the fake encoder registered (the
settings name it): `gunicorn -c python:tests.served_gunicorn 'tests.served_app:application()'`."""
from web.wsgi import one_compute_thread

one_compute_thread()  # as web.gunicorn_conf does, before the fake encoder's module loads numpy
import tests.fakes  # noqa: E402,F401  (registers the fake encoder by name)
from web.gunicorn_conf import *  # noqa: E402,F401,F403  (every setting and hook, as they are: gunicorn reads them)
