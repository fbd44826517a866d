-- wrk script: POST one pre-built batch of metric events (path from the BATCH_FILE env var).
local f = assert(io.open(os.getenv("BATCH_FILE"), "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
-- Events need an ingest (or admin) token.
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("INGEST_TOKEN"), "INGEST_TOKEN is not set")

local non_202 = 0
response = function(status, headers, body)
  if status ~= 202 then non_202 = non_202 + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("completed_requests=%d\n", summary.requests))
  io.write(string.format("http_errors=%d\n", summary.errors.status))
end
