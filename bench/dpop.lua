-- wrk script: GET /auth with a DPoP-bound token, each request with the next proof of
-- $PROOFS_FILE (one per line, each used once), and the guarded request a trusted proxy describes.
local proofs, sent = {}, 0
local token = os.getenv("TOKEN")

function init(args)
  for line in io.lines(os.getenv("PROOFS_FILE")) do proofs[#proofs + 1] = line end
end

function request()
  sent = sent + 1
  if sent > #proofs then
    io.stderr:write("dpop: out of proofs after ", #proofs, " requests\n")
    os.exit(1)
  end
  return wrk.format("GET", "/auth", {
    ["Authorization"] = "DPoP " .. token,
    ["DPoP"] = proofs[sent],
    ["X-Forwarded-Method"] = "GET",
    ["X-Forwarded-Proto"] = "https",
    ["X-Forwarded-Host"] = "pacs.example",
    ["X-Forwarded-Uri"] = "/dicom-web/studies",
  })
end
