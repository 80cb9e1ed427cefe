"""Fleet mode: PostgreSQL, a real job queue (procrastinate), many web and worker replicas."""
