#!/bin/sh
# A Harbor agent in shell: `harbor serve --exec 'sh examples/exec/agent.sh'`.
#
# It shows the smallest useful exec agent (crates/harbor-server/docs/exec-protocol.md): the
# message text arrives in $HARBOR_TEXT (and as a JSON request line on stdin, not needed
# here), and each printed line is an event. It answers with the text upper-cased as an
# artifact, then completes. A cancel stops it with SIGTERM (it traps nothing, so it just
# ends and the task is CANCELED); its stderr goes to the server log.
#
# Try it:  harbor serve --exec 'sh examples/exec/agent.sh'
#          harbor send http://127.0.0.1:9999 "hello from shell"

# JSON-escapes stdin (backslashes, quotes, tabs; newlines become \n).
json_escape() {
  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }'
}

echo "agent.sh: task $HARBOR_TASK_ID" >&2
echo '{"type":"status","state":"working","text":"shouting"}'
loud=$(printf '%s' "$HARBOR_TEXT" | tr '[:lower:]' '[:upper:]' | json_escape)
printf '{"type":"artifact","name":"shout","text":"%s","lastChunk":true}\n' "$loud"
echo '{"type":"status","state":"completed"}'
