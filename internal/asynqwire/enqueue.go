package asynqwire

import (
	"context"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/redis/go-redis/v9"
)

// LuaEnqueue defines the Lua function enqueue(task hash, pending list, id,
// message, now in ns), which writes a task as asynq's own enqueue does,
// unless a task of its id is there (asynq would refuse it); an id "" writes
// nothing. It returns 1 when it wrote the task, 0 otherwise. Scripts that
// write a task in the same step as something else start with it.
const LuaEnqueue = `
local function enqueue(tk, pk, id, msg, now)
  if id == '' or redis.call('EXISTS', tk) == 1 then return 0 end
  redis.call('HSET', tk, 'msg', msg, 'state', 'pending', 'pending_since', now)
  redis.call('LPUSH', pk, id)
  return 1
end
`

// LuaMessage defines the Lua function message(head, payload, tail), which
// puts a Message together from its MessageHead, its payload (not empty)
// and its MessageTail, for a script that writes a task whose payload
// holds what it read.
const LuaMessage = `
local function message(head, payload, tail)
  local n, len = #payload, ''
  while n >= 128 do
    len = len .. string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  return head .. len .. string.char(n) .. payload .. tail
end
`

// enqueueScript is enqueue alone. KEYS: 1 task hash, 2 pending list. ARGV:
// 1 task id, 2 message, 3 now (ns).
var enqueueScript = redis.NewScript(LuaEnqueue + `return enqueue(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])`)

// Enqueue writes a task (msg, from Message) on queue in one round trip,
// unless a task of its id is there. The queue must be listed in asynq's
// queues set (keyspace.AsynqQueues) for asynq's tools to show it.
func Enqueue(ctx context.Context, rdb redis.Scripter, queue, id string, msg []byte) error {
	k := keyspace.New(queue)
	return enqueueScript.Run(ctx, rdb, []string{k.AsynqTask(id), k.AsynqPending()}, id, msg, Now()).Err()
}

// Now is asynq's pending_since: now, in unix ns.
func Now() string { return strconv.FormatInt(time.Now().UnixNano(), 10) }
