-- wrk script: each request carries the next token of $TOKENS_FILE, round robin, so concurrent
-- requests never share a token (no coalescing: every request is really verified).
local tokens, index = {}, 0

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
end

function request()
  index = index % #tokens + 1
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tokens[index] })
end
