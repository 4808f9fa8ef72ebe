-- wrk script: sends each token of $TOKENS_FILE through GET /auth once, then stops.
local tokens, sent, answered = {}, 0, 0

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
end

function request()
  sent = sent % #tokens + 1
  return wrk.format("GET", "/auth", { ["Authorization"] = "Bearer " .. tokens[sent] })
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then
    io.stderr:write("feed: a token was answered ", status, "\n")
    os.exit(1)
  end
  if answered >= #tokens then os.exit(0) end  -- wrk would otherwise run out its -d duration
end
