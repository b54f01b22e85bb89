#!/usr/bin/env python3
"""An A2A v1.0 agent built with the official Python SDK (a2a-sdk 1.3.0), for interop tests.

Usage: sdk_server.py HOST PORT

Serves, under uvicorn on HOST:PORT (PORT 0 picks a free port):

- the public agent card at ``/.well-known/agent-card.json``;
- JSON-RPC at ``/a2a/jsonrpc`` and HTTP+JSON at ``/a2a/rest`` (both declared on the card);
- gRPC (``lf.a2a.v1.A2AService``, the SDK's ``GrpcHandler`` on ``grpc.aio``, plaintext) on a
  free port of HOST, declared on the card as ``GRPC`` at ``HOST:GRPC_PORT``;
- streaming, push notifications (in-memory config store, the SDK's sender) and an extended
  card, all declared as capabilities.

When it listens it prints one line, ``READY http://HOST:PORT``, and then only logs to stderr.
It stops on SIGINT or SIGTERM (uvicorn's handlers), or when its parent kills it.

The agent picks its behaviour from the prefix of the user message's ``messageId``, as the
conformance kit's agents do (tck-sut-contract.md §3); the prefixes used by Harbor's tests:

- ``tck-complete-task``: the task ends COMPLETED with the agent status message
  ``Hello from TCK``;
- ``tck-message-response``: a direct Message ``Direct message response``, no task;
- ``tck-input-required``: the task waits in INPUT_REQUIRED (a follow-up with another prefix
  carries it on);
- ``tck-stream-001``: WORKING, an artifact with the text ``Stream hello from TCK``, COMPLETED;
- ``tck-artifact-text``, ``tck-artifact-file``, ``tck-artifact-file-url``,
  ``tck-artifact-data``: one artifact (text ``Generated text content``; raw bytes
  ``output.txt``; the URL ``https://example.com/output.txt``; the data
  ``{"key": "value", "count": 42}``), then COMPLETED;
- ``tck-stream-artifact-chunked``: WORKING, the chunk ``chunk-1 ``, then ``chunk-2`` appended
  to the same artifact as its last chunk, COMPLETED;
- anything else: COMPLETED, echoing the input.

The artifact prefixes let ``harbor check`` grade the SDK server itself rather than a
missing behaviour of this agent.

``crates/harbor-client/tests/interop_python_server.rs`` starts it and drives every RPC through
Harbor's client.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys

import grpc
import httpx
import uvicorn

from starlette.applications import Starlette

from a2a.helpers import new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler, GrpcHandler
from a2a.server.routes import (
    create_agent_card_routes,
    create_jsonrpc_routes,
    create_rest_routes,
)
from a2a.server.tasks import (
    BasePushNotificationSender,
    InMemoryPushNotificationConfigStore,
    InMemoryTaskStore,
    TaskUpdater,
)
from google.protobuf import struct_pb2

from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Artifact,
    Message,
    Part,
    Role,
    TaskArtifactUpdateEvent,
    a2a_pb2_grpc,
)

JSONRPC_PATH = '/a2a/jsonrpc'
REST_PREFIX = '/a2a/rest'


class PrefixAgent(AgentExecutor):
    """Chooses what to do from the messageId prefix of the user message."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message = context.message
        message_id = message.message_id if message else ''
        if message_id.startswith('tck-message-response'):
            await event_queue.enqueue_event(
                Message(
                    role=Role.ROLE_AGENT,
                    message_id=f'reply-{message_id}',
                    context_id=context.context_id or '',
                    parts=[Part(text='Direct message response')],
                )
            )
            return
        task = context.current_task
        if task is None and message is not None:
            task = new_task_from_user_message(message)
            task.id = context.task_id or task.id
            task.context_id = context.context_id or task.context_id
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        if message_id.startswith('tck-input-required'):
            await updater.requires_input(
                updater.new_agent_message([new_text_part('Please provide input')])
            )
        elif message_id.startswith('tck-complete-task'):
            await updater.complete(updater.new_agent_message([new_text_part('Hello from TCK')]))
        elif message_id.startswith('tck-stream-001'):
            await updater.start_work()
            await updater.add_artifact([new_text_part('Stream hello from TCK')], name='result')
            await updater.complete()
        elif message_id.startswith('tck-stream-artifact-chunked'):
            await updater.start_work()
            for text, append, last in (('chunk-1 ', False, False), ('chunk-2', True, True)):
                await event_queue.enqueue_event(
                    TaskArtifactUpdateEvent(
                        task_id=task.id,
                        context_id=task.context_id,
                        artifact=Artifact(artifact_id='chunked', parts=[Part(text=text)]),
                        append=append,
                        last_chunk=last,
                    )
                )
            await updater.complete()
        elif message_id.startswith('tck-artifact-'):
            await updater.add_artifact([artifact_part(message_id)], name='output')
            await updater.complete()
        else:
            echo = context.get_user_input()
            await updater.complete(updater.new_agent_message([new_text_part(f'echo: {echo}')]))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        task_id = task.id if task else context.task_id or ''
        context_id = task.context_id if task else context.context_id or ''
        await TaskUpdater(event_queue, task_id, context_id).cancel()


def artifact_part(message_id: str) -> Part:
    """The part a ``tck-artifact-*`` message asks for (longest prefix first)."""
    if message_id.startswith('tck-artifact-file-url'):
        return Part(
            url='https://example.com/output.txt', filename='output.txt', media_type='text/plain'
        )
    if message_id.startswith('tck-artifact-file'):
        return Part(raw=b'tck', filename='output.txt', media_type='text/plain')
    if message_id.startswith('tck-artifact-data'):
        data = struct_pb2.Value()
        data.struct_value.update({'key': 'value', 'count': 42})
        return Part(data=data, media_type='application/json')
    return new_text_part('Generated text content')


def agent_card(base: str, grpc_url: str, *, extended: bool = False) -> AgentCard:
    """The public card, or the extended one (one more skill)."""
    skills = [
        AgentSkill(
            id='prefix',
            name='Prefix behaviours',
            description='Behaviour chosen by the messageId prefix (tck-complete-task, ...).',
            tags=['interop'],
        )
    ]
    if extended:
        skills.append(
            AgentSkill(
                id='extended',
                name='Extended skill',
                description='Listed on the extended card only.',
                tags=['interop'],
            )
        )
    return AgentCard(
        name='a2a-sdk interop agent' + (' (extended)' if extended else ''),
        description='The official Python SDK serving the conformance prefixes Harbor tests use.',
        version='1.3.0',
        supported_interfaces=[
            AgentInterface(
                url=f'{base}{JSONRPC_PATH}', protocol_binding='JSONRPC', protocol_version='1.0'
            ),
            AgentInterface(
                url=f'{base}{REST_PREFIX}', protocol_binding='HTTP+JSON', protocol_version='1.0'
            ),
            AgentInterface(url=grpc_url, protocol_binding='GRPC', protocol_version='1.0'),
        ],
        capabilities=AgentCapabilities(
            streaming=True, push_notifications=True, extended_agent_card=True
        ),
        default_input_modes=['text/plain'],
        default_output_modes=['text/plain'],
        skills=skills,
    )


async def serve(host: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    port = sock.getsockname()[1]
    shown_host = f'[{host}]' if ':' in host else host
    base = f'http://{shown_host}:{port}'
    grpc_server = grpc.aio.server()
    grpc_port = grpc_server.add_insecure_port(f'{shown_host}:0')
    grpc_url = f'{shown_host}:{grpc_port}'

    card = agent_card(base, grpc_url)
    push_store = InMemoryPushNotificationConfigStore()
    async with httpx.AsyncClient(timeout=10) as push_http:
        handler = DefaultRequestHandler(
            agent_executor=PrefixAgent(),
            task_store=InMemoryTaskStore(),
            agent_card=card,
            push_config_store=push_store,
            push_sender=BasePushNotificationSender(push_http, push_store),
            extended_agent_card=agent_card(base, grpc_url, extended=True),
        )
        a2a_pb2_grpc.add_A2AServiceServicer_to_server(GrpcHandler(handler), grpc_server)
        await grpc_server.start()
        routes = [
            *create_agent_card_routes(agent_card=card, cache_control='public, max-age=60'),
            *create_jsonrpc_routes(request_handler=handler, rpc_url=JSONRPC_PATH),
            *create_rest_routes(request_handler=handler, path_prefix=REST_PREFIX),
        ]
        app = Starlette(routes=routes)
        config = uvicorn.Config(app, log_level='warning', lifespan='off')
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.02)
        if server.started:
            print(f'READY {base}', flush=True)
        try:
            await serving
        finally:
            await grpc_server.stop(grace=1)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.split('\n\n')[1], file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
    return 0


if __name__ == '__main__':
    sys.exit(main())
