-- wrk script: mints dev-issuer tokens, appending each to $TOKENS_FILE, until $TOKENS_WANTED of them.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic dG9sbGdhdGUtZGV2OnRvbGxnYXRlLWRldi1zZWNyZXQ=" -- tollgate-dev:tollgate-dev-secret
wrk.body = "grant_type=client_credentials"

local out, wanted, got

function init(args)
  out = io.open(os.getenv("TOKENS_FILE"), "w")
  wanted = tonumber(os.getenv("TOKENS_WANTED"))
  got = 0
end

function response(status, headers, body)
  local token = body:match('"access_token":"([^"]+)"')
  if status == 200 and token and got < wanted then
    out:write(token, "\n")
    got = got + 1
    if got == wanted then
      out:close()
      os.exit(0)  -- wrk would otherwise run out its -d duration
    end
  end
end
