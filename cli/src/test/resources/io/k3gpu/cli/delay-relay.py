"""A TCP relay that delays every byte by a fixed time in each direction, keeping their order: latency on a link
where this kernel has no netem. Run inside a lab node's network namespace, in front of its sshd:
    python3 delay-relay.py LISTEN_IP LISTEN_PORT TARGET_IP TARGET_PORT DELAY_SECONDS
It serves until killed."""
import asyncio
import sys


async def pump(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(65536)
            await queue.put((loop.time() + delay, data or None))
            if not data:
                break
    except (ConnectionError, OSError):
        await queue.put((loop.time(), None))
    try:
        await sender
    except (ConnectionError, OSError):
        pass


async def main():
    listen_ip, listen_port, target_ip, target_port, delay = sys.argv[1:6]
    delay = float(delay)

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(target_ip, int(target_port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, server_writer, delay), pump(server_reader, client_writer, delay))

    server = await asyncio.start_server(handle, listen_ip, int(listen_port))
    async with server:
        await server.serve_forever()


asyncio.run(main())
