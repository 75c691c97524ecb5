"""A seeded household simulator and a recorder-database seeder (tests, demo, bench)."""
