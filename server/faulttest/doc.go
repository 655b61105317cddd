// Package faulttest owns Spate's fault-injection suite: tests that run the
// real server as a child process and hurt it the way production does —
// SIGKILL at random moments (during ingest with a model learning, during a
// deploy, a rollback and a version cut), torn and corrupted log segments,
// a full disk — and then check what was promised: no acknowledged row lost
// or duplicated, model outputs equal to an uninterrupted run, a consistent
// registry, clear errors. docs/guarantees.md lists each guarantee and the
// test that proves it.
//
// Every test is bounded in time, talks to 127.0.0.1 only and draws its
// random choices from one seed, printed by each test; set SPATE_FAULT_SEED
// to replay a run and SPATE_FAULT_TRIALS to change the number of kill trials
// (default 10).
package faulttest
