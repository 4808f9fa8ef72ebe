-- wrk script: MockForge shape A with the token from $TOKEN (same token every request: the cached path).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"context":{"method":"GET","uri":"/api/users","headers":{}},"credentials":{"type":"bearer","token":"'
  .. os.getenv("TOKEN") .. '"}}'
