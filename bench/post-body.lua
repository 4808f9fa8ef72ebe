-- wrk script: POST the JSON in $BODY, with $AUTHORIZATION as the Authorization header when set
-- (the Orthanc plugin's Basic credentials). The same body every request: the settled path.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if os.getenv("AUTHORIZATION") then wrk.headers["Authorization"] = os.getenv("AUTHORIZATION") end
wrk.body = os.getenv("BODY")
