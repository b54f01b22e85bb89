#!/usr/bin/env python3
"""Drive an A2A v1.0 server with the official Python SDK client (a2a-sdk 1.3.0).

Usage: sdk_client_vs_harbor.py BASE_URL BINDING

BASE_URL is where the public agent card lives (``BASE_URL/.well-known/agent-card.json``);
BINDING is ``JSONRPC``, ``HTTP+JSON`` or ``GRPC``. The card is resolved with the SDK and the
client is forced onto BINDING (gRPC over a plaintext channel to the card's ``host:port``). The server under test must run the conformance agent (behaviour chosen
by the messageId prefix, see tck-sut-contract.md §3): ``harbor serve`` does.

Every RPC of the protocol is exercised with real assertions. Each check prints one line:
``ok   <RPC> over <BINDING>: ...`` or ``FAIL <RPC> over <BINDING>: <what>``, where <RPC> is the
call that failed (a check also makes the set-up calls it needs). The last line is
``N passed, M failed``; the exit status is 0 only if every check passed.

Only the official SDK client talks to the server: no hand-written HTTP.
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
import uuid

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
import httpx

from google.protobuf.json_format import MessageToDict

from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.client.transports.grpc import GrpcTransport
from a2a.client.transports.jsonrpc import JsonRpcTransport
from a2a.client.transports.rest import RestTransport
from a2a.helpers import get_artifact_text, get_message_text
from a2a.types import (
    AgentCard,
    AuthenticationInfo,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskNotCancelableError,
    TaskNotFoundError,
    TaskPushNotificationConfig,
    TaskState,
    UnsupportedOperationError,
)
from a2a.utils.errors import A2AError


# Seconds allowed for one unary call, and for a whole stream to run to its end.
CALL_TIMEOUT = 15.0
STREAM_TIMEOUT = 30.0

BINDINGS = {'JSONRPC': JsonRpcTransport, 'HTTP+JSON': RestTransport, 'GRPC': GrpcTransport}
TERMINAL = {
    TaskState.TASK_STATE_COMPLETED,
    TaskState.TASK_STATE_FAILED,
    TaskState.TASK_STATE_CANCELED,
    TaskState.TASK_STATE_REJECTED,
}

T = TypeVar('T')


class Failure(Exception):
    """A failed expectation, naming the RPC it concerns."""

    def __init__(self, rpc: str, what: str) -> None:
        super().__init__(f'{rpc}: {what}')
        self.rpc = rpc
        self.what = what


def expect(rpc: str, condition: bool, what: str) -> None:
    if not condition:
        raise Failure(rpc, what)


def state_name(state: int) -> str:
    return TaskState.Name(state)


def describe(error: BaseException) -> str:
    text = str(error) or repr(error)
    return f'{type(error).__name__}: {text}'


def sid() -> str:
    """An 8-hex session id, as the TCK appends to its message ids."""
    return uuid.uuid4().hex[:8]


def user_message(
    prefix: str,
    text: str,
    *,
    task_id: str = '',
    context_id: str = '',
) -> Message:
    return Message(
        role=Role.ROLE_USER,
        message_id=f'{prefix}-{sid()}',
        parts=[Part(text=text)],
        task_id=task_id,
        context_id=context_id,
    )


def event_kind(event: StreamResponse) -> str:
    return event.WhichOneof('payload') or '<empty>'


def event_state(event: StreamResponse) -> int | None:
    if event.HasField('task'):
        return event.task.status.state
    if event.HasField('status_update'):
        return event.status_update.status.state
    return None


def summarize(events: list[StreamResponse]) -> str:
    out = []
    for event in events:
        state = event_state(event)
        kind = event_kind(event)
        out.append(f'{kind}({state_name(state)})' if state is not None else kind)
    return '[' + ', '.join(out) + ']'


async def call(rpc: str, awaitable: Awaitable[T], timeout: float = CALL_TIMEOUT) -> T:
    """Await one SDK call with a deadline; any error becomes a Failure naming the RPC."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise Failure(rpc, f'no answer within {timeout:.0f} s') from None
    except Failure:
        raise
    except Exception as e:  # noqa: BLE001 - every client error is a finding
        raise Failure(rpc, describe(e)) from e


async def collect(
    rpc: str,
    stream: AsyncIterator[StreamResponse],
    timeout: float = STREAM_TIMEOUT,
    on_event: Callable[[StreamResponse], None] | None = None,
) -> list[StreamResponse]:
    """Read a stream to its end (the server must close it) within a deadline."""
    events: list[StreamResponse] = []

    async def run() -> None:
        async for event in stream:
            events.append(event)
            if on_event is not None:
                on_event(event)

    try:
        await asyncio.wait_for(run(), timeout)
    except asyncio.TimeoutError:
        raise Failure(
            rpc,
            f'stream not closed within {timeout:.0f} s; events so far {summarize(events)}',
        ) from None
    except Exception as e:  # noqa: BLE001
        raise Failure(rpc, f'{describe(e)}; events before the error {summarize(events)}') from e
    finally:
        aclose = getattr(stream, 'aclose', None)
        if aclose is not None:
            try:
                await asyncio.wait_for(aclose(), 5)
            except Exception:  # noqa: BLE001, S110 - best-effort cleanup
                pass
    return events


async def expect_error(
    rpc: str,
    awaitable: Awaitable[Any],
    expected: type[BaseException],
    what: str,
) -> BaseException:
    """The call must fail with `expected` (an A2A error type of the SDK)."""
    try:
        result = await asyncio.wait_for(awaitable, CALL_TIMEOUT)
    except asyncio.TimeoutError:
        raise Failure(rpc, f'{what}: no answer within {CALL_TIMEOUT:.0f} s') from None
    except expected as e:
        return e
    except Failure as f:  # a helper already wrapped the SDK's error
        if isinstance(f.__cause__, expected):
            return f.__cause__
        raise Failure(rpc, f'{what}: expected {expected.__name__}, got {f.what}') from f.__cause__
    except Exception as e:  # noqa: BLE001
        raise Failure(rpc, f'{what}: expected {expected.__name__}, got {describe(e)}') from e
    shown = MessageToDict(result) if hasattr(result, 'DESCRIPTOR') else result
    raise Failure(rpc, f'{what}: expected {expected.__name__}, but the call succeeded: {shown}')


async def drain(stream: AsyncIterator[StreamResponse]) -> list[StreamResponse]:
    """Read a stream that is expected to fail; returns whatever arrived if it does not."""
    return [event async for event in stream]


def with_api_key(details: Any, key: str) -> Any:
    """The call details with the API key added to their metadata."""
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    metadata.add(API_KEY_HEADER, key)
    return details._replace(metadata=metadata)


# grpc.aio files each interceptor under the first kind it is an instance of, so unary and
# streaming calls need one interceptor each.
class ApiKeyUnary(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds the API key to the metadata of every unary gRPC call."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def intercept_unary_unary(self, continuation, details, request):  # noqa: ANN001, ANN201
        return await continuation(with_api_key(details, self.key), request)


class ApiKeyStream(grpc.aio.UnaryStreamClientInterceptor):
    """Adds the API key to the metadata of every server-streaming gRPC call."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def intercept_unary_stream(self, continuation, details, request):  # noqa: ANN001, ANN201
        return await continuation(with_api_key(details, self.key), request)


# The server under test may require an API key (Harbor's interop run does): given in this
# environment variable, it goes in this header on every request, gRPC metadata included.
API_KEY_ENV = 'HARBOR_INTEROP_API_KEY'
API_KEY_HEADER = 'x-api-key'


class Session:
    """The clients for one binding, and the checks."""

    def __init__(self, base_url: str, binding: str) -> None:
        self.base_url = base_url
        self.binding = binding
        self.api_key = os.environ.get(API_KEY_ENV) or None
        headers = {API_KEY_HEADER: self.api_key} if self.api_key else None
        # One httpx client for everything; the SDK's default 5 s timeout is too short for
        # a subscription that waits for another connection to complete the task.
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(STREAM_TIMEOUT, connect=5.0), headers=headers
        )
        self.card: AgentCard | None = None
        self.unary: Any = None  # client whose send_message uses SendMessage
        self.streaming: Any = None  # client whose send_message uses SendStreamingMessage

    async def open(self) -> None:
        rpc = 'agent card (GET /.well-known/agent-card.json)'

        def channel(url: str) -> grpc.aio.Channel:
            interceptors = (
                [ApiKeyUnary(self.api_key), ApiKeyStream(self.api_key)] if self.api_key else None
            )
            return grpc.aio.insecure_channel(url, interceptors=interceptors)

        def make(streaming: bool) -> ClientFactory:
            return ClientFactory(
                ClientConfig(
                    streaming=streaming,
                    httpx_client=self.http,
                    supported_protocol_bindings=[self.binding],
                    use_client_preference=True,
                    # The card gives gRPC as host:port; test servers speak plaintext.
                    grpc_channel_factory=channel,
                )
            )

        # Resolve the public card with the SDK's resolver, then build both clients from it.
        self.card = await call(rpc, A2ACardResolver(self.http, self.base_url).get_agent_card())
        self.unary = make(False).create(self.card)
        self.streaming = make(True).create(self.card)
        for client in (self.unary, self.streaming):
            transport = client._transport  # noqa: SLF001 - check the binding really used
            expect(
                rpc,
                isinstance(transport, BINDINGS[self.binding]),
                f'the SDK picked {type(transport).__name__}, not the {self.binding} transport',
            )
        card = self.card
        bindings = {i.protocol_binding: i for i in card.supported_interfaces}
        expect(rpc, self.binding in bindings, f'card does not declare {self.binding}')
        expect(
            rpc,
            bindings[self.binding].protocol_version == '1.0',
            f'{self.binding} interface has protocolVersion '
            f'{bindings[self.binding].protocol_version!r}, want "1.0"',
        )
        caps = card.capabilities
        expect(rpc, caps.streaming, 'card does not declare capabilities.streaming')
        expect(rpc, caps.push_notifications, 'card does not declare capabilities.pushNotifications')
        expect(rpc, caps.extended_agent_card, 'card does not declare capabilities.extendedAgentCard')

    async def close(self) -> None:
        for client in (self.unary, self.streaming):
            if client is not None:
                try:
                    await asyncio.wait_for(client.close(), 5)
                except Exception:  # noqa: BLE001, S110
                    pass
        await self.http.aclose()

    # --- helpers -----------------------------------------------------------------------

    async def send(self, rpc: str, message: Message, **config: Any) -> StreamResponse:
        """SendMessage (blocking): the single response, as the SDK wraps it."""
        request = SendMessageRequest(message=message)
        for key, value in config.items():
            setattr(request.configuration, key, value)
        events = await collect(rpc, self.unary.send_message(request), CALL_TIMEOUT)
        expect(rpc, len(events) == 1, f'expected one response, got {summarize(events)}')
        return events[0]

    async def send_task(self, rpc: str, message: Message, want: int) -> Task:
        response = await self.send(rpc, message)
        expect(
            rpc,
            response.HasField('task'),
            f'{message.message_id}: expected a task, got {event_kind(response)}',
        )
        task = response.task
        expect(
            rpc,
            task.status.state == want,
            f'{message.message_id}: task state {state_name(task.status.state)}, '
            f'want {state_name(want)}',
        )
        return task

    async def get(self, task_id: str, history_length: int | None = None) -> Task:
        request = GetTaskRequest(id=task_id)
        if history_length is not None:
            request.history_length = history_length
        return await call('GetTask', self.unary.get_task(request))

    # --- checks ------------------------------------------------------------------------

    async def check_send_task(self) -> str:
        rpc = 'SendMessage'
        message = user_message('tck-complete-task', 'interop: complete me')
        task = await self.send_task(rpc, message, TaskState.TASK_STATE_COMPLETED)
        expect(rpc, bool(task.id), 'task has no id')
        expect(rpc, bool(task.context_id), 'task has no contextId')
        expect(rpc, task.status.HasField('message'), 'COMPLETED status carries no message')
        status = task.status.message
        expect(rpc, status.role == Role.ROLE_AGENT, f'status message role {Role.Name(status.role)}')
        text = get_message_text(status)
        expect(rpc, text == 'Hello from TCK', f'status message text {text!r}, want "Hello from TCK"')
        ids = [m.message_id for m in task.history if m.role == Role.ROLE_USER]
        expect(
            rpc,
            message.message_id in ids,
            f'user message {message.message_id} missing from history {ids}',
        )

        # A terminal task takes no more messages; an unknown task id is not found.
        await expect_error(
            rpc,
            self.send(rpc, user_message('tck-complete-task', 'interop: too late', task_id=task.id)),
            UnsupportedOperationError,
            'follow-up message to a COMPLETED task',
        )
        await expect_error(
            rpc,
            self.send(
                rpc,
                user_message(
                    'tck-complete-task', 'interop: nobody', task_id=f'interop-missing-{uuid.uuid4()}'
                ),
            ),
            TaskNotFoundError,
            'message with an unknown taskId',
        )

        # returnImmediately: the task comes back at once and completes on its own.
        quick = user_message('tck-complete-task', 'interop: do not wait')
        response = await self.send(rpc, quick, return_immediately=True)
        expect(
            rpc,
            response.HasField('task'),
            f'returnImmediately: expected a task, got {event_kind(response)}',
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CALL_TIMEOUT
        state = response.task.status.state
        while state != TaskState.TASK_STATE_COMPLETED:
            expect(
                rpc,
                state not in TERMINAL and loop.time() < deadline,
                f'returnImmediately task {response.task.id} is {state_name(state)}, never COMPLETED',
            )
            await asyncio.sleep(0.05)
            state = (await self.get(response.task.id)).status.state
        return (
            f'task reply {task.id[:8]}… COMPLETED, "Hello from TCK"; returnImmediately ok; '
            'terminal task → UnsupportedOperationError; unknown taskId → TaskNotFoundError'
        )

    async def check_send_message(self) -> str:
        rpc = 'SendMessage'
        message = user_message('tck-message-response', 'interop: answer with a message')
        response = await self.send(rpc, message)
        expect(
            rpc,
            response.HasField('message'),
            f'tck-message-response: expected a Message reply, got {event_kind(response)}',
        )
        reply = response.message
        expect(rpc, reply.role == Role.ROLE_AGENT, f'reply role {Role.Name(reply.role)}')
        text = get_message_text(reply)
        expect(
            rpc,
            text == 'Direct message response',
            f'reply text {text!r}, want "Direct message response"',
        )
        expect(rpc, bool(reply.message_id), 'reply has no messageId')
        return 'message reply "Direct message response"'

    async def check_stream(self) -> str:
        rpc = 'SendStreamingMessage'
        message = user_message('tck-stream-001', 'interop: stream please')
        events = await collect(
            rpc, self.streaming.send_message(SendMessageRequest(message=message))
        )
        shown = summarize(events)
        expect(rpc, len(events) >= 3, f'too few events: {shown}')
        expect(rpc, events[0].HasField('task'), f'first event is not a task: {shown}')
        task = events[0].task
        expect(rpc, bool(task.id), 'first task event has no id')
        expect(
            rpc,
            message.message_id in [m.message_id for m in task.history],
            f'first task event lacks the user message {message.message_id} in its history',
        )
        for event in events[1:]:
            expect(
                rpc,
                not event.HasField('message'),
                f'unexpected message event in a task stream: {shown}',
            )
            ev_task = event.status_update.task_id or event.artifact_update.task_id or event.task.id
            expect(rpc, ev_task == task.id, f'event for task {ev_task!r}, stream is {task.id!r}')
        # WORKING (in the task snapshot or an update) before the artifact, then COMPLETED last.
        artifact_at = [i for i, e in enumerate(events) if e.HasField('artifact_update')]
        expect(rpc, len(artifact_at) == 1, f'want exactly one artifact update: {shown}')
        working_at = [
            i for i, e in enumerate(events) if event_state(e) == TaskState.TASK_STATE_WORKING
        ]
        expect(
            rpc,
            bool(working_at) and working_at[0] < artifact_at[0],
            f'no WORKING before the artifact: {shown}',
        )
        artifact = events[artifact_at[0]].artifact_update.artifact
        text = get_artifact_text(artifact)
        expect(rpc, text == 'Stream hello from TCK', f'artifact text {text!r}')
        expect(
            rpc,
            event_state(events[-1]) == TaskState.TASK_STATE_COMPLETED,
            f'last event is not COMPLETED: {shown}',
        )
        expect(
            rpc,
            artifact_at[0] < len(events) - 1,
            f'COMPLETED arrived before the artifact: {shown}',
        )
        order = [
            TaskState.TASK_STATE_SUBMITTED,
            TaskState.TASK_STATE_WORKING,
            TaskState.TASK_STATE_COMPLETED,
        ]
        states = [s for s in (event_state(e) for e in events) if s is not None]
        ranks = [order.index(s) if s in order else -1 for s in states]
        expect(rpc, -1 not in ranks, f'unexpected state in stream: {shown}')
        expect(rpc, ranks == sorted(ranks), f'task state went backwards: {shown}')

        # The stored task agrees with what was streamed.
        stored = await self.get(task.id)
        expect(
            'GetTask',
            stored.status.state == TaskState.TASK_STATE_COMPLETED,
            f'streamed task {task.id} is {state_name(stored.status.state)} in the store',
        )
        texts = [get_artifact_text(a) for a in stored.artifacts]
        expect(
            'GetTask',
            texts == ['Stream hello from TCK'],
            f'streamed task {task.id} has artifacts {texts} in the store',
        )

        # A behaviour that answers with a Message streams exactly that message.
        message = user_message('tck-message-response', 'interop: stream a message')
        events = await collect(
            rpc, self.streaming.send_message(SendMessageRequest(message=message))
        )
        shown = summarize(events)
        expect(
            rpc,
            len(events) == 1 and events[0].HasField('message'),
            f'tck-message-response streamed {shown}, want exactly one message',
        )
        text = get_message_text(events[0].message)
        expect(rpc, text == 'Direct message response', f'streamed message text {text!r}')
        return f'task, WORKING, artifact "Stream hello from TCK", COMPLETED ({len(states)} states); message stream ok'

    async def check_get(self) -> str:
        rpc = 'GetTask'
        first = user_message('tck-input-required', 'interop: first turn')
        task = await self.send_task('SendMessage', first, TaskState.TASK_STATE_INPUT_REQUIRED)
        second = user_message('tck-input-required', 'interop: second turn', task_id=task.id)
        task2 = await self.send_task(
            'SendMessage (follow-up)', second, TaskState.TASK_STATE_INPUT_REQUIRED
        )
        expect('SendMessage (follow-up)', task2.id == task.id, 'follow-up answered another task')
        expect(
            'SendMessage (follow-up)',
            task2.context_id == task.context_id,
            'follow-up moved the task to another context',
        )

        full = await self.get(task.id)
        expect(rpc, full.id == task.id, f'got task {full.id!r}, asked {task.id!r}')
        expect(
            rpc,
            full.status.state == TaskState.TASK_STATE_INPUT_REQUIRED,
            f'state {state_name(full.status.state)}, want INPUT_REQUIRED',
        )
        user_ids = [m.message_id for m in full.history if m.role == Role.ROLE_USER]
        expect(
            rpc,
            user_ids == [first.message_id, second.message_id],
            f'user messages in history {user_ids}, want [{first.message_id}, {second.message_id}]',
        )
        newest = full.history[-1].message_id

        one = await self.get(task.id, history_length=1)
        expect(
            rpc,
            len(one.history) == 1,
            f'historyLength=1 gave {len(one.history)} messages (full history has {len(full.history)})',
        )
        expect(
            rpc,
            one.history[0].message_id == newest,
            f'historyLength=1 kept {one.history[0].message_id}, want the newest {newest}',
        )
        zero = await self.get(task.id, history_length=0)
        expect(rpc, len(zero.history) == 0, f'historyLength=0 gave {len(zero.history)} messages')

        await expect_error(
            rpc,
            self.unary.get_task(GetTaskRequest(id=f'interop-missing-{uuid.uuid4()}')),
            TaskNotFoundError,
            'unknown task id',
        )
        return f'history {len(full.history)} messages; historyLength 1 and 0 honoured; unknown id → TaskNotFoundError'

    async def check_list(self) -> str:
        rpc = 'ListTasks'
        context_id = f'interop-ctx-{uuid.uuid4()}'
        created = []
        for i in range(5):
            message = user_message(
                'tck-complete-task', f'interop: list {i}', context_id=context_id
            )
            task = await self.send_task('SendMessage', message, TaskState.TASK_STATE_COMPLETED)
            expect(
                'SendMessage',
                task.context_id == context_id,
                f'client contextId {context_id!r} not kept: task has {task.context_id!r}',
            )
            created.append(task.id)

        seen: list[str] = []
        token = ''
        pages = 0
        while True:
            pages += 1
            expect(rpc, pages <= 10, f'more than 10 pages for {len(created)} tasks; seen {seen}')
            request = ListTasksRequest(context_id=context_id, page_size=2, page_token=token)
            page = await call(rpc, self.unary.list_tasks(request))
            ids = [t.id for t in page.tasks]
            expect(rpc, 1 <= len(ids) <= 2, f'page {pages} has {len(ids)} tasks with pageSize 2')
            expect(
                rpc,
                page.total_size == len(created),
                f'page {pages}: totalSize {page.total_size}, want {len(created)}',
            )
            expect(rpc, page.page_size == 2, f'page {pages}: pageSize {page.page_size}, want 2')
            for t in page.tasks:
                expect(rpc, t.context_id == context_id, f'task {t.id} from context {t.context_id!r}')
                expect(
                    rpc,
                    len(t.artifacts) == 0,
                    f'task {t.id} carries artifacts although includeArtifacts is unset',
                )
            dup = set(ids) & set(seen)
            expect(rpc, not dup, f'page {pages} repeats tasks {sorted(dup)}')
            seen.extend(ids)
            token = page.next_page_token
            if not token:
                break
        expect(
            rpc,
            sorted(seen) == sorted(created),
            f'pages returned {sorted(seen)}, created {sorted(created)}',
        )
        expect(rpc, pages == 3, f'{len(created)} tasks in {pages} pages of 2, want 3')

        empty = await call(
            rpc,
            self.unary.list_tasks(
                ListTasksRequest(context_id=f'interop-empty-{uuid.uuid4()}', page_size=100)
            ),
        )
        expect(
            rpc,
            len(empty.tasks) == 0 and empty.total_size == 0 and empty.next_page_token == '',
            f'unused context: {MessageToDict(empty)}',
        )
        return f'{len(created)} tasks in {pages} pages of 2, no duplicates, totalSize {len(created)}'

    async def check_cancel(self) -> str:
        rpc = 'CancelTask'
        message = user_message('tck-input-required', 'interop: cancel me')
        task = await self.send_task('SendMessage', message, TaskState.TASK_STATE_INPUT_REQUIRED)
        canceled = await call(rpc, self.unary.cancel_task(CancelTaskRequest(id=task.id)))
        expect(rpc, canceled.id == task.id, f'returned task {canceled.id!r}, want {task.id!r}')
        expect(
            rpc,
            canceled.status.state == TaskState.TASK_STATE_CANCELED,
            f'returned state {state_name(canceled.status.state)}, want CANCELED',
        )
        after = await self.get(task.id)
        expect(
            'GetTask',
            after.status.state == TaskState.TASK_STATE_CANCELED,
            f'after cancel the task is {state_name(after.status.state)}',
        )

        done = await self.send_task(
            'SendMessage',
            user_message('tck-complete-task', 'interop: finished'),
            TaskState.TASK_STATE_COMPLETED,
        )
        await expect_error(
            rpc,
            self.unary.cancel_task(CancelTaskRequest(id=done.id)),
            TaskNotCancelableError,
            'cancel of a COMPLETED task',
        )
        await expect_error(
            rpc,
            self.unary.cancel_task(CancelTaskRequest(id=f'interop-missing-{uuid.uuid4()}')),
            TaskNotFoundError,
            'cancel of an unknown task',
        )
        return 'INPUT_REQUIRED → CANCELED; completed → TaskNotCancelableError; unknown → TaskNotFoundError'

    async def check_subscribe(self) -> str:
        rpc = 'SubscribeToTask'
        message = user_message('tck-input-required', 'interop: subscribe to me')
        task = await self.send_task('SendMessage', message, TaskState.TASK_STATE_INPUT_REQUIRED)

        started = [asyncio.Event(), asyncio.Event()]

        def marker(i: int) -> Callable[[StreamResponse], None]:
            return lambda _event: started[i].set()

        readers = [
            asyncio.create_task(
                collect(
                    rpc,
                    self.streaming.subscribe(SubscribeToTaskRequest(id=task.id)),
                    on_event=marker(i),
                )
            )
            for i in range(2)
        ]
        try:
            # Both subscriptions must be open (first event in) before the task moves on.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + CALL_TIMEOUT
            while not all(s.is_set() for s in started):
                for reader in readers:
                    if reader.done():
                        reader.result()  # raises the reader's Failure
                        raise Failure(rpc, 'a subscription ended before the task finished')
                if loop.time() > deadline:
                    raise Failure(
                        rpc,
                        f'not both subscribers got a first event within {CALL_TIMEOUT:.0f} s',
                    )
                await asyncio.sleep(0.02)

            follow_up = user_message('tck-complete-task', 'interop: now finish', task_id=task.id)
            done = await self.send_task(
                'SendMessage (follow-up)', follow_up, TaskState.TASK_STATE_COMPLETED
            )
            expect('SendMessage (follow-up)', done.id == task.id, 'follow-up answered another task')
            results = await asyncio.wait_for(
                asyncio.gather(*readers), STREAM_TIMEOUT + 5
            )
        finally:
            for reader in readers:
                if not reader.done():
                    reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)

        for i, events in enumerate(results, start=1):
            shown = summarize(events)
            expect(rpc, bool(events), f'subscriber {i} got no events')
            expect(rpc, events[0].HasField('task'), f'subscriber {i}: first event not a task: {shown}')
            expect(
                rpc,
                events[0].task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED,
                f'subscriber {i}: first task state {state_name(events[0].task.status.state)}, '
                f'want INPUT_REQUIRED',
            )
            expect(
                rpc,
                event_state(events[-1]) == TaskState.TASK_STATE_COMPLETED,
                f'subscriber {i}: last event not COMPLETED: {shown}',
            )
        a, b = ([MessageToDict(e) for e in events] for events in results)
        if a != b:
            first_diff = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
            )
            raise Failure(
                rpc,
                f'the two subscribers saw different events (first difference at #{first_diff}): '
                f'{summarize(results[0])} vs {summarize(results[1])}',
            )

        # Subscribing to a terminal task is refused; so is an unknown task.
        await expect_error(
            rpc,
            drain(self.streaming.subscribe(SubscribeToTaskRequest(id=task.id))),
            UnsupportedOperationError,
            'subscribe to a COMPLETED task',
        )
        await expect_error(
            rpc,
            drain(
                self.streaming.subscribe(SubscribeToTaskRequest(id=f'interop-missing-{uuid.uuid4()}')),
            ),
            TaskNotFoundError,
            'subscribe to an unknown task',
        )
        return (
            f'2 concurrent subscribers saw the same {len(results[0])} events '
            f'{summarize(results[0])}; terminal → UnsupportedOperationError; unknown → TaskNotFoundError'
        )

    # Push-config CRUD: one check per RPC, on one COMPLETED task, in order.
    PUSH_CREATE = 'CreateTaskPushNotificationConfig'
    PUSH_GET = 'GetTaskPushNotificationConfig'
    PUSH_LIST = 'ListTaskPushNotificationConfigs'
    PUSH_DELETE = 'DeleteTaskPushNotificationConfig'

    @staticmethod
    def same_config(rpc: str, got: TaskPushNotificationConfig, want: TaskPushNotificationConfig) -> None:
        for field in ('id', 'task_id', 'url', 'token'):
            expect(
                rpc,
                getattr(got, field) == getattr(want, field),
                f'{field} {getattr(got, field)!r}, want {getattr(want, field)!r}',
            )
        expect(
            rpc,
            got.authentication.scheme.lower() == 'bearer'
            and got.authentication.credentials == want.authentication.credentials,
            f'authentication {MessageToDict(got.authentication)}, '
            f'want {MessageToDict(want.authentication)}',
        )

    def push_configs(self, rpc: str) -> list[TaskPushNotificationConfig]:
        configs = getattr(self, '_push_configs', None)
        expect(rpc, bool(configs), f'not run: {self.PUSH_CREATE} failed')
        return configs  # type: ignore[return-value]

    async def check_push_create(self) -> str:
        rpc = self.PUSH_CREATE
        task = await self.send_task(
            'SendMessage',
            user_message('tck-complete-task', 'interop: push configs'),
            TaskState.TASK_STATE_COMPLETED,
        )
        configs = []
        for _ in range(2):
            config_id = f'interop-push-{sid()}'
            configs.append(
                TaskPushNotificationConfig(
                    task_id=task.id,
                    id=config_id,
                    url=f'https://example.com/webhook/{config_id}',
                    token=f'token-{config_id}',
                    authentication=AuthenticationInfo(
                        scheme='Bearer', credentials=f'cred-{config_id}'
                    ),
                )
            )
        for config in configs:
            made = await call(rpc, self.unary.create_task_push_notification_config(config))
            self.same_config(rpc, made, config)
        self._push_configs = configs
        return f'2 configs with client-chosen ids on COMPLETED task {task.id[:8]}…'

    async def check_push_get(self) -> str:
        rpc = self.PUSH_GET
        configs = self.push_configs(rpc)
        first = configs[0]
        fetched = await call(
            rpc,
            self.unary.get_task_push_notification_config(
                GetTaskPushNotificationConfigRequest(task_id=first.task_id, id=first.id)
            ),
        )
        self.same_config(rpc, fetched, first)
        missing = f'interop-push-missing-{sid()}'
        error = await expect_error(
            rpc,
            self.unary.get_task_push_notification_config(
                GetTaskPushNotificationConfigRequest(task_id=first.task_id, id=missing)
            ),
            A2AError,
            'get of an unknown config id',
        )
        return f'config {first.id} round-trips; unknown id → {type(error).__name__}'

    async def check_push_list(self) -> str:
        rpc = self.PUSH_LIST
        configs = self.push_configs(rpc)
        task_id = configs[0].task_id
        listed = await call(
            rpc,
            self.unary.list_task_push_notification_configs(
                ListTaskPushNotificationConfigsRequest(task_id=task_id)
            ),
        )
        want = {c.id: c for c in configs}
        got_ids = sorted(c.id for c in listed.configs)
        expect(rpc, got_ids == sorted(want), f'listed {got_ids}, want {sorted(want)}')
        for c in listed.configs:
            self.same_config(rpc, c, want[c.id])
        return 'both configs listed'

    async def check_push_delete(self) -> str:
        rpc = self.PUSH_DELETE
        configs = self.push_configs(rpc)
        first, second = configs
        request = DeleteTaskPushNotificationConfigRequest(task_id=first.task_id, id=first.id)
        await call(rpc, self.unary.delete_task_push_notification_config(request))
        await call(
            f'{rpc} (second delete of the same id)',
            self.unary.delete_task_push_notification_config(request),
        )
        error = await expect_error(
            self.PUSH_GET,
            self.unary.get_task_push_notification_config(
                GetTaskPushNotificationConfigRequest(task_id=first.task_id, id=first.id)
            ),
            A2AError,
            'get after delete',
        )
        listed = await call(
            self.PUSH_LIST,
            self.unary.list_task_push_notification_configs(
                ListTaskPushNotificationConfigsRequest(task_id=first.task_id)
            ),
        )
        got_ids = [c.id for c in listed.configs]
        expect(
            self.PUSH_LIST, got_ids == [second.id], f'after delete listed {got_ids}, want [{second.id}]'
        )
        return f'deleted twice (idempotent); get after delete → {type(error).__name__}; the other config stays'

    async def check_extended_card(self) -> str:
        rpc = 'GetExtendedAgentCard'
        public = self.card
        assert public is not None
        card = await call(rpc, self.unary.get_extended_agent_card(GetExtendedAgentCardRequest()))
        expect(rpc, bool(card.name), 'extended card has no name')
        expect(rpc, bool(card.version), 'extended card has no version')
        expect(rpc, len(card.skills) >= 1, 'extended card has no skills')
        got = sorted((i.protocol_binding, i.url, i.protocol_version) for i in card.supported_interfaces)
        want = sorted(
            (i.protocol_binding, i.url, i.protocol_version) for i in public.supported_interfaces
        )
        expect(rpc, got == want, f'extended card interfaces {got}, public card has {want}')
        expect(rpc, card.capabilities.streaming, 'extended card lost capabilities.streaming')
        return f'"{card.name}" with {len(card.skills)} skill(s)'


async def main(base_url: str, binding: str) -> int:
    if binding not in BINDINGS:
        print(f'unknown binding {binding!r}; use one of {", ".join(BINDINGS)}', file=sys.stderr)
        return 2
    session = Session(base_url, binding)
    passed = failed = 0
    try:
        try:
            await session.open()
        except Failure as f:
            print(f'FAIL {f.rpc} over {binding}: {f.what}', flush=True)
            print(f'0 passed, 1 failed (over {binding}; nothing else could run)', flush=True)
            return 1

        checks: list[tuple[str, Callable[[], Awaitable[str]]]] = [
            ('SendMessage', session.check_send_task),
            ('SendMessage', session.check_send_message),
            ('SendStreamingMessage', session.check_stream),
            ('GetTask', session.check_get),
            ('ListTasks', session.check_list),
            ('CancelTask', session.check_cancel),
            ('SubscribeToTask', session.check_subscribe),
            (Session.PUSH_CREATE, session.check_push_create),
            (Session.PUSH_GET, session.check_push_get),
            (Session.PUSH_LIST, session.check_push_list),
            (Session.PUSH_DELETE, session.check_push_delete),
            ('GetExtendedAgentCard', session.check_extended_card),
        ]
        for name, check in checks:
            try:
                detail = await asyncio.wait_for(check(), 120)
            except Failure as f:
                failed += 1
                print(f'FAIL {f.rpc} over {binding}: {f.what}', flush=True)
                if f.__cause__ is not None and '-v' in sys.argv:
                    traceback.print_exception(f.__cause__)
            except asyncio.TimeoutError:
                failed += 1
                print(f'FAIL {name} over {binding}: the check did not finish within 120 s', flush=True)
            except Exception as e:  # noqa: BLE001 - a bug in this script still names the check
                failed += 1
                print(f'FAIL {name} over {binding}: unexpected {describe(e)}', flush=True)
                traceback.print_exc()
            else:
                passed += 1
                print(f'ok   {name} over {binding}: {detail}', flush=True)
    finally:
        await session.close()
    print(f'{passed} passed, {failed} failed (a2a-sdk client over {binding} against {base_url})', flush=True)
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if a != '-v']
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(args[0], args[1])))
