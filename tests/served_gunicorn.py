"""gunicorn's settings for the serving tests: web.gunicorn_conf's own, read with the fake encoder registered (the
settings name it): `gunicorn -c python:tests.served_gunicorn 'tests.served_app:application()'`."""
from web.wsgi import one_compute_thread

one_compute_thread()  # as web.gunicorn_conf does, before the fake encoder's module loads numpy
import tests.fakes  # noqa: E402,F401  (registers the fake encoder by name)
from web.gunicorn_conf import (accesslog, bind, control_socket_disable, errorlog, forwarded_allow_ips, graceful_timeout,  # noqa: E402,F401
                               on_starting, secure_scheme_headers, timeout, worker_class, workers)
