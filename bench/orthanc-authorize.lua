-- wrk script: Orthanc's filter question (POST /orthanc/authorize) for a study read with the token from $TOKEN.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"method":"GET","uri":"/studies/6e2c0ec2-5d99c8ca-c1c21cee-79a09605-68391d12","tokens":["Bearer '
  .. os.getenv("TOKEN") .. '"],"resources":[{"level":"study","orthanc-id":"6e2c0ec2-5d99c8ca-c1c21cee-79a09605-68391d12"}]}'
