"""The "shop" sample workload: an e-commerce schema, a deterministic data generator and query replayer, and a slow log recorded from a real MariaDB run of it."""
