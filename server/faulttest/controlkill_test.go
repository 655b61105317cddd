package faulttest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
)

// controlOp is a model operation the server may be killed in the middle of.
type controlOp struct {
	name string
	// run performs the operation; target is what it acts on.
	run func(ctx context.Context, cl *client, trial int, st *opState) error
	// check runs after the restart: done says whether the client saw the
	// operation succeed before the kill.
	check func(t *testing.T, cl *client, trial int, st *opState, done bool)
}

// opState is what the operations need to know between their run and check.
type opState struct {
	before   []*spatev1.Version // versions of the live model before the op
	target   int64              // rollback target
	txRows   int64
	labRows  int64
	deployed string // name of the model a deploy creates
}

const liveModel = "fraud_live"

// TestKill9DuringControlOperations kills the server at a random moment
// during a deploy, a rollback and a version cut (CreateVersion), with the
// live model learning. After each restart the operation has either
// happened entirely or not at all: the registry lists whole models and
// versions only, a model deployed before the kill runs and catches up, the
// operation can be repeated, and the live model has consumed every row and
// label exactly once.
func TestKill9DuringControlOperations(t *testing.T) {
	s := seed(t)
	rng := newRand(s, 2)
	perOp := envInt(t, "SPATE_FAULT_OP_TRIALS", 5)
	txs, labs := fraudBatches(t, s, 200*(12+3*perOp), 200)
	dir := t.TempDir()
	st := &opState{}

	c := startChild(t, dir, "")
	cl := dial(t, c)
	cl.setupFraudPipeline(liveModel, 500)
	appendPair := func(cl *client, i int) {
		t.Helper()
		if err := appendOne(cl, "labels", labs[i], st.labRows, true); err != nil {
			t.Fatalf("append labels: %v", err)
		}
		st.labRows += labs[i].NumRows()
		if err := appendOne(cl, "transactions", txs[i], st.txRows, true); err != nil {
			t.Fatalf("append transactions: %v", err)
		}
		st.txRows += txs[i].NumRows()
	}
	next := 0
	for ; next < 10; next++ {
		appendPair(cl, next)
	}
	cl.waitModel(liveModel, st.txRows, st.txRows)

	ops := []controlOp{
		{name: "deploy",
			run: func(ctx context.Context, cl *client, trial int, st *opState) error {
				st.deployed = fmt.Sprintf("deployed_%d", trial+100)
				_, err := cl.ms.Deploy(ctx, fraudModel(st.deployed, 500))
				return err
			},
			check: func(t *testing.T, cl *client, trial int, st *opState, done bool) {
				ctx, cancel := cl.ctx(10 * time.Second)
				defer cancel()
				_, err := cl.ms.GetModel(ctx, &spatev1.GetModelRequest{Name: st.deployed})
				switch {
				case err == nil:
				case status.Code(err) == codes.NotFound && !done:
					list, err := cl.ms.ListModels(ctx, &spatev1.ListModelsRequest{})
					if err != nil {
						t.Fatalf("list models: %v", err)
					}
					for _, m := range list.Models {
						if m.Name == st.deployed {
							t.Fatalf("model %s is listed but GetModel says not found", st.deployed)
						}
					}
					// It did not happen: it can be done now.
					if _, err := cl.ms.Deploy(ctx, fraudModel(st.deployed, 500)); err != nil {
						t.Fatalf("deploy again after an interrupted deploy: %v", err)
					}
				default:
					t.Fatalf("model %s after a kill during its deploy (acknowledged: %v): %v", st.deployed, done, err)
				}
				cl.waitModel(st.deployed, st.txRows, st.txRows)
				checkVersionsMonotonic(t, cl, st.deployed)
			}},
		{name: "rollback",
			run: func(ctx context.Context, cl *client, trial int, st *opState) error {
				_, err := cl.ms.Rollback(ctx, &spatev1.RollbackRequest{Name: liveModel, Version: st.target})
				return err
			},
			check: func(t *testing.T, cl *client, trial int, st *opState, done bool) {
				added := newVersions(t, cl, st.before)
				n := 0
				for _, v := range added {
					if v.Reason == "rollback" {
						n++
						if v.Parent != st.target {
							t.Fatalf("rollback version %d names parent %d, want %d", v.Id, v.Parent, st.target)
						}
					}
				}
				if n > 1 || (done && n != 1) {
					t.Fatalf("%d rollback versions after a kill during one rollback (acknowledged: %v): %+v", n, done, added)
				}
			}},
		{name: "version cut",
			run: func(ctx context.Context, cl *client, trial int, st *opState) error {
				_, err := cl.ms.CreateVersion(ctx, &spatev1.CreateVersionRequest{Name: liveModel})
				return err
			},
			check: func(t *testing.T, cl *client, trial int, st *opState, done bool) {
				added := newVersions(t, cl, st.before)
				n := 0
				for _, v := range added {
					if v.Reason == "manual" {
						n++
					}
				}
				if n > 1 || (done && n != 1) {
					t.Fatalf("%d manual versions after a kill during one CreateVersion (acknowledged: %v): %+v", n, done, added)
				}
			}},
	}
	// Time each operation once, uninterrupted, so that the kills land
	// before, inside and after it.
	took := map[string]time.Duration{}
	for i, op := range ops {
		st.before = checkVersionsMonotonic(t, cl, liveModel)
		st.target = st.before[0].Id
		ctx, cancel := cl.ctx(30 * time.Second)
		begin := time.Now()
		if err := op.run(ctx, cl, -1-i, st); err != nil {
			t.Fatalf("%s without a kill: %v", op.name, err)
		}
		took[op.name] = time.Since(begin)
		cancel()
	}
	counts := map[string][2]int{} // op → [acknowledged before the kill, not]
	for trial := 0; trial < perOp*len(ops); trial++ {
		op := ops[trial%len(ops)]
		// Give the model something new to learn, so that versions differ.
		appendPair(cl, next)
		next++
		vs := checkVersionsMonotonic(t, cl, liveModel)
		st.before = vs
		st.target = vs[rng.IntN(len(vs))].Id
		ctx, cancel := cl.ctx(30 * time.Second)
		res := make(chan error, 1)
		go func() { res <- op.run(ctx, cl, trial, st) }()
		time.Sleep(time.Duration(rng.Int64N(int64(2*took[op.name]) + 1)))
		c.kill()
		err := <-res
		cancel()
		done := err == nil
		k := counts[op.name]
		if done {
			k[0]++
		} else {
			k[1]++
		}
		counts[op.name] = k

		c = startChild(t, dir, "")
		cl = dial(t, c)
		func() {
			defer func() {
				if t.Failed() {
					t.Logf("trial %d (%s) failed; server log:\n%s", trial, op.name, c.logTail())
				}
			}()
			op.check(t, cl, trial, st, done)
			checkModelHealthy(t, cl, liveModel, c)
			checkVersionsMonotonic(t, cl, liveModel)
			cl.waitModel(liveModel, st.txRows, st.txRows)
		}()
	}
	// The operations still work after all this.
	ctx, cancel := cl.ctx(30 * time.Second)
	defer cancel()
	if _, err := cl.ms.CreateVersion(ctx, &spatev1.CreateVersionRequest{Name: liveModel}); err != nil {
		t.Fatalf("version cut after the kills: %v", err)
	}
	appendPair(cl, next)
	cl.waitModel(liveModel, st.txRows, st.txRows)
	t.Logf("uninterrupted durations %v; kills per operation [acknowledged before the kill, not]: %v", took, counts)
}

// newVersions returns the versions of the live model that are not in
// before, after checking that none of before disappeared or changed.
func newVersions(t *testing.T, cl *client, before []*spatev1.Version) []*spatev1.Version {
	t.Helper()
	now := checkVersionsMonotonic(t, cl, liveModel)
	var added []*spatev1.Version
	for _, v := range now {
		i := slices.IndexFunc(before, func(b *spatev1.Version) bool { return b.Id == v.Id })
		if i < 0 {
			added = append(added, v)
			continue
		}
		if b := before[i]; b.Reason != v.Reason || b.Parent != v.Parent || b.InputOffset != v.InputOffset || b.SamplesSeen != v.SamplesSeen {
			t.Fatalf("version %d changed across the kill: %+v, was %+v", v.Id, v, b)
		}
	}
	for _, b := range before {
		if !slices.ContainsFunc(now, func(v *spatev1.Version) bool { return v.Id == b.Id }) {
			t.Fatalf("version %d disappeared across the kill", b.Id)
		}
	}
	return added
}
