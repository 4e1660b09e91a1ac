/** Node 1's config in d-engine's shape, with every table Keel reads (shared by the TOML and load tests). */
export const D_ENGINE_TOML = `
[cluster]
node_id = 1
listen_address = "127.0.0.1:9081"
initial_cluster = [
  { id = 1, address = "127.0.0.1:9081", role = 1, status = 2 },
  { id = 2, address = "127.0.0.1:9082", role = 1, status = 2 },
  { id = 3, address = "127.0.0.1:9083", role = 3, status = "Syncing" },
]
db_root_dir = "./db"
cluster_id = "keel"

[api]
http_addr = "127.0.0.1:8081"
health_port = 10001
max_key_bytes = 4096
max_value_bytes = 1048576
max_body_bytes = 2097152

[raft]
tick_ms = 100
election_timeout_ticks = 10
heartbeat_ticks = 1
snapshot_every_entries = 10000
batch_wait_ms = 2

[raft.read_consistency]
default_policy = "LeaseRead"
lease_duration_ms = 500

[raft.persistence]
strategy = "MemFirst"
flush_policy = { Batch = { threshold = 100, interval_ms = 10 } }

[log]
level = "info"
`;
