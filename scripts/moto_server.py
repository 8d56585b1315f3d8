"""moto's server with every request handled under one lock.

moto applies a conditional write as a read, a check and a write with no lock between them, so two
concurrent conditional writes to one item can both succeed. DynamoDB applies each item write
atomically, and the store's optimistic claims rely on that; serialising requests gives the emulator
the same guarantee. Connections stay threaded, so a client holding one open blocks nobody.
"""

import argparse
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def serialised(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        with lock:
            # Consume the whole response inside the lock: the write happens while it is produced.
            return list(app(environ, start_response))

    return handle


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialised(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
