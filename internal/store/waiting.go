package store

// luaWait and luaUnwait are shared by the scripts that list a campaign as
// waiting for a condition to lift (its WABA's onboarding, a paused template
// or sender: keyspace.Onboarding, keyspace.GuardPaused), which resumes it,
// and by those that end its wait otherwise: a cancel, a resume, a
// retirement. A campaign is so listed only while it is paused (or, its keys
// expired, until it is retired): lifting a condition never finds one
// cancelled, and the lists do not keep campaigns that ended. Each script
// defines only the function it calls: the claim, on the send path, runs
// with wait alone.
//
// wait lists a campaign and names the list in the index of lists
// (keyspace.WaitLists).
const luaWait = `
local function wait(index, list, id)
  redis.call('SADD', list, id)
  redis.call('SADD', index, list)
end
`

// luaUnwait: unwait takes campaigns (a table of ids) off every list the
// index names, whatever listed them (the settings that named a list, a
// sender's WABA, may have changed since), and drops the lists left empty
// from the index. The lists share the index's slot; like the asynq task
// keys of unparkScript, they are read from Redis, not passed as keys.
const luaUnwait = `
local function unwait(index, ids)
  for _, list in ipairs(redis.call('SMEMBERS', index)) do
    redis.call('SREM', list, unpack(ids))
    if redis.call('EXISTS', list) == 0 then redis.call('SREM', index, list) end
  end
end
`
