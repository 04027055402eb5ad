"""The service: the composition root, jobs, claims, the scheduler's leader, status and checks."""
