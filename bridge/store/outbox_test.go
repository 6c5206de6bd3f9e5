package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func enqueue(t testing.TB, s *Store, it OutboxItem) int64 {
	t.Helper()
	var id int64
	update(t, s, func(tx *Tx) error {
		var err error
		id, err = tx.Enqueue(it)
		return err
	})
	return id
}

func item(t testing.TB, s *Store, id int64) OutboxItem {
	t.Helper()
	it, ok, err := s.Item(context.Background(), id)
	if err != nil || !ok {
		t.Fatalf("Item(%d) = %v, %v", id, ok, err)
	}
	return it
}

func orgItem(key, payload string) OutboxItem {
	return OutboxItem{Stream: "customers", Entity: "organization", ERPKey: key, Op: OpCreate,
		Payload: []byte(payload), Fingerprint: "fp-" + payload}
}

func TestEnqueueKeepsOneOpenItemPerRecord(t *testing.T) {
	later := time.Hour
	tests := []struct {
		name         string
		prepare      func(tx *Tx, id int64) error // brings the first item to its state
		wantSameID   bool
		wantPayload  string // of the item Enqueue returns
		wantState    State
		wantAttempts int
		wantFollowUp bool
	}{
		{"pending is replaced", func(tx *Tx, id int64) error { return nil }, true, "v2", StatePending, 0, false},
		{"failed is replaced and reset", func(tx *Tx, id int64) error {
			if err := tx.Fail(id, "HTTP 500", LevelError, time.Now().Add(later), true); err != nil {
				return err
			}
			return tx.Fail(id, "HTTP 500", LevelError, time.Now().Add(later), true)
		}, true, "v2", StatePending, 0, false},
		{"parked is replaced and reset", func(tx *Tx, id int64) error {
			return tx.Park(id, "invalid e-mail", LevelSkip)
		}, true, "v2", StatePending, 0, false},
		{"inflight is kept, newer stored as follow-up", func(tx *Tx, id int64) error {
			return tx.MarkInflight(id)
		}, true, "v1", StateInflight, 0, true},
		{"done gets a new item", func(tx *Tx, id int64) error {
			return tx.Complete(id, "crm-1", "")
		}, false, "v2", StatePending, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := openTest(t)
			first := enqueue(t, s, orgItem("000001", "v1"))
			update(t, s, func(tx *Tx) error { return tt.prepare(tx, first) })
			second := enqueue(t, s, orgItem("000001", "v2"))

			if (second == first) != tt.wantSameID {
				t.Errorf("Enqueue returned id %d, first was %d; want same id %v", second, first, tt.wantSameID)
			}
			got := item(t, s, second)
			if string(got.Payload) != tt.wantPayload || got.State != tt.wantState || got.Attempts != tt.wantAttempts ||
				got.HasFollowUp != tt.wantFollowUp || got.LastError != "" && tt.wantState == StatePending {
				t.Errorf("item = payload %s state %s attempts %d followUp %v lastError %q; want %s %s %d %v",
					got.Payload, got.State, got.Attempts, got.HasFollowUp, got.LastError,
					tt.wantPayload, tt.wantState, tt.wantAttempts, tt.wantFollowUp)
			}
			open, err := s.OpenItems(ctx, OutboxFilter{Entity: "organization", ERPKey: "000001"})
			if err != nil || len(open) != 1 {
				t.Errorf("open items for the record = %d, %v; want exactly 1", len(open), err)
			}
		})
	}
}

func TestFollowUpAfterInflightResolves(t *testing.T) {
	tests := []struct {
		name         string
		followUpFP   string
		resolve      func(tx *Tx, id int64) error
		wantOpenOp   Op     // "" = no open item left
		wantPayload  string // of the open item
		wantAttempts int
	}{
		{"complete queues the follow-up as an update of the new CRM id", "fp-v2",
			func(tx *Tx, id int64) error { return tx.Complete(id, "crm-9", "fp-v1") }, OpUpdate, "v2", 0},
		{"complete drops a follow-up with the fingerprint just written", "fp-v1",
			func(tx *Tx, id int64) error { return tx.Complete(id, "crm-9", "fp-v1") }, "", "", 0},
		{"fail replaces the failed write with the follow-up", "fp-v2",
			func(tx *Tx, id int64) error { return tx.Fail(id, "timeout", LevelError, time.Time{}, true) }, OpCreate, "v2", 0},
		{"park replaces the parked write with the follow-up", "fp-v2",
			func(tx *Tx, id int64) error { return tx.Park(id, "422 invalid", LevelSkip) }, OpCreate, "v2", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := openTest(t)
			id := enqueue(t, s, orgItem("000001", "v1"))
			update(t, s, func(tx *Tx) error { return tx.MarkInflight(id) })
			follow := orgItem("000001", "v2")
			follow.Fingerprint = tt.followUpFP
			enqueue(t, s, follow)
			update(t, s, func(tx *Tx) error { return tt.resolve(tx, id) })

			open, err := s.OpenItems(ctx, OutboxFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantOpenOp == "" {
				if len(open) != 0 {
					t.Errorf("open items = %+v, want none", open)
				}
				return
			}
			if len(open) != 1 {
				t.Fatalf("open items = %d, want 1", len(open))
			}
			got := open[0]
			if got.Op != tt.wantOpenOp || string(got.Payload) != tt.wantPayload || got.State != StatePending ||
				got.Attempts != tt.wantAttempts || got.HasFollowUp || got.Fingerprint != tt.followUpFP {
				t.Errorf("open item = %+v", got)
			}
			if tt.wantOpenOp == OpUpdate && got.CRMID != "crm-9" {
				t.Errorf("follow-up CRM id = %q, want crm-9", got.CRMID)
			}
		})
	}
}

func TestCompleteIsAtomicWithIdentityAndCursor(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	id := enqueue(t, s, orgItem("000001", "v1"))

	boom := errors.New("CRM said no after all")
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.Complete(id, "crm-1", "fp-v1"); err != nil {
			return err
		}
		if err := tx.SetCursor("customers", "after-000001"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update error = %v, want fn's error", err)
	}
	if it := item(t, s, id); it.State != StatePending {
		t.Errorf("after rollback item state = %s, want pending", it.State)
	}
	if _, ok, _ := s.Identity(ctx, "organization", "000001"); ok {
		t.Error("after rollback an identity exists")
	}
	if _, ok, _ := s.Cursor(ctx, "customers"); ok {
		t.Error("after rollback the cursor moved")
	}

	clk.Advance(time.Minute)
	update(t, s, func(tx *Tx) error {
		if err := tx.Complete(id, "crm-1", "fp-v1"); err != nil {
			return err
		}
		return tx.SetCursor("customers", "after-000001")
	})
	it := item(t, s, id)
	got, ok, _ := s.Identity(ctx, "organization", "000001")
	want := Identity{Entity: "organization", ERPKey: "000001", CRMID: "crm-1", Fingerprint: "fp-v1", SyncedAt: clk.Now()}
	if it.State != StateDone || it.CRMID != "crm-1" || !ok || got != want {
		t.Errorf("after commit item %s/%s, identity %+v; want done/crm-1 and %+v", it.State, it.CRMID, got, want)
	}
	if c, _, _ := s.Cursor(ctx, "customers"); c.Position != "after-000001" {
		t.Errorf("cursor = %q", c.Position)
	}
	// A done item cannot be resolved again.
	err = s.Update(ctx, func(tx *Tx) error { return tx.Complete(id, "crm-1", "") })
	if !errors.Is(err, ErrNotOpen) {
		t.Errorf("second Complete error = %v, want ErrNotOpen", err)
	}

	// A delete keeps the CRM id and flags the identity.
	del := enqueue(t, s, OutboxItem{Stream: "customers", Entity: "organization", ERPKey: "000001", Op: OpDelete, CRMID: "crm-1"})
	update(t, s, func(tx *Tx) error { return tx.Complete(del, "", "") })
	if got, _, _ := s.Identity(ctx, "organization", "000001"); !got.Deleted || got.CRMID != "crm-1" {
		t.Errorf("after delete identity = %+v", got)
	}
}

func TestFailCountsAttemptsOnlyWhenAsked(t *testing.T) {
	tests := []struct {
		name         string
		countAttempt bool
		wantState    State
		wantAttempts int
		wantInErrors bool
	}{
		{"unexpected failure counts", true, StateFailed, 2, true},
		{"rate limited does not count", false, StatePending, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, clk := openTest(t)
			id := enqueue(t, s, orgItem("000001", "v1"))
			next := clk.Now().Add(90 * time.Second)
			for range 2 {
				update(t, s, func(tx *Tx) error {
					if err := tx.MarkInflight(id); err != nil {
						return err
					}
					return tx.Fail(id, "HTTP 429", LevelError, next, tt.countAttempt)
				})
			}
			it := item(t, s, id)
			if it.State != tt.wantState || it.Attempts != tt.wantAttempts || !it.NextAttemptAt.Equal(next) || it.LastError != "HTTP 429" {
				t.Errorf("item = %+v", it)
			}
			errs, err := s.Errors(ctx, OutboxFilter{})
			if err != nil || (len(errs) == 1) != tt.wantInErrors {
				t.Errorf("Errors = %d items, %v; want listed %v", len(errs), err, tt.wantInErrors)
			}
			due, _ := s.Due(ctx, "customers", clk.Now(), 10)
			dueLater, _ := s.Due(ctx, "customers", next, 10)
			if len(due) != 0 || len(dueLater) != 1 {
				t.Errorf("due now %d, due at next attempt %d; want 0 and 1", len(due), len(dueLater))
			}
		})
	}
}

func TestParkListAndRetry(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	bad := enqueue(t, s, orgItem("000001", "v1"))
	flaky := enqueue(t, s, orgItem("000002", "v1"))
	other := enqueue(t, s, OutboxItem{Stream: "products", Entity: "product", ERPKey: "P1", Op: OpCreate})
	enqueue(t, s, orgItem("000003", "v1")) // pending: not an error, due now
	update(t, s, func(tx *Tx) error {
		if err := tx.Park(bad, "invalid e-mail \"x@\"", LevelSkip); err != nil {
			return err
		}
		if err := tx.Fail(flaky, "HTTP 503", LevelError, clk.Now().Add(time.Hour), true); err != nil {
			return err
		}
		return tx.Park(other, "HTTP 400", LevelError)
	})

	tests := []struct {
		name   string
		filter OutboxFilter
		want   []int64
	}{
		{"all errors", OutboxFilter{}, []int64{bad, flaky, other}},
		{"by stream", OutboxFilter{Stream: "customers"}, []int64{bad, flaky}},
		{"by level", OutboxFilter{Level: LevelSkip}, []int64{bad}},
		{"parked only", OutboxFilter{States: []State{StateParked}}, []int64{bad, other}},
		{"since later", OutboxFilter{Since: clk.Now().Add(time.Second)}, nil},
		{"limit", OutboxFilter{Limit: 1}, []int64{bad}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Errors(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, it := range got {
				ids = append(ids, it.ID)
			}
			if len(ids) != len(tt.want) || (len(ids) > 0 && ids[0] != tt.want[0]) || (len(ids) > 1 && ids[len(ids)-1] != tt.want[len(tt.want)-1]) {
				t.Errorf("Errors ids = %v, want %v", ids, tt.want)
			}
		})
	}
	if errs, _ := s.Errors(ctx, OutboxFilter{ERPKey: "000001"}); len(errs) != 1 ||
		errs[0].Level != LevelSkip || errs[0].Attempts != 1 || errs[0].LastError != `invalid e-mail "x@"` || errs[0].Stream != "customers" {
		t.Errorf("parked item listed as %+v", errs)
	}

	clk.Advance(time.Minute)
	n, err := s.RetryParked(ctx, OutboxFilter{Stream: "customers"})
	if err != nil || n != 2 {
		t.Fatalf("RetryParked = %d, %v; want 2", n, err)
	}
	due, err := s.Due(ctx, "customers", clk.Now(), 10)
	if err != nil || len(due) != 3 { // bad, flaky, ok
		t.Fatalf("Due after retry = %d items, %v; want 3", len(due), err)
	}
	if due[0].ID != bad || due[0].State != StatePending || due[0].Attempts != 0 {
		t.Errorf("retried item = %+v", due[0])
	}
	if it := item(t, s, other); it.State != StateParked {
		t.Errorf("other stream's item state = %s, want still parked", it.State)
	}
}

func TestDueOrderAndInflight(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	a := enqueue(t, s, orgItem("A", "v1"))
	future := orgItem("B", "v1")
	future.NextAttemptAt = clk.Now().Add(time.Hour)
	enqueue(t, s, future)
	c := enqueue(t, s, orgItem("C", "v1"))
	p := enqueue(t, s, OutboxItem{Stream: "products", Entity: "product", ERPKey: "P", Op: OpCreate})
	update(t, s, func(tx *Tx) error { return tx.MarkInflight(c) })

	tests := []struct {
		name   string
		stream string
		limit  int
		want   []int64
	}{
		{"stream", "customers", 10, []int64{a, c}},
		{"limit", "customers", 1, []int64{a}},
		{"all streams", "", 10, []int64{a, c, p}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Due(ctx, tt.stream, clk.Now(), tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, it := range got {
				ids = append(ids, it.ID)
			}
			if len(ids) != len(tt.want) || (len(ids) > 0 && ids[0] != tt.want[0]) {
				t.Errorf("Due ids = %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestCountAndPrune(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	a := enqueue(t, s, orgItem("A", "v1"))
	b := enqueue(t, s, orgItem("B", "v1"))
	enqueue(t, s, orgItem("C", "v1"))
	enqueue(t, s, OutboxItem{Stream: "products", Entity: "product", ERPKey: "P", Op: OpCreate})
	update(t, s, func(tx *Tx) error {
		if err := tx.Complete(a, "crm-a", ""); err != nil {
			return err
		}
		return tx.Park(b, "bad", LevelSkip)
	})
	counts, err := s.Count(ctx)
	want := []OutboxCount{{"customers", StateParked, 1}, {"customers", StatePending, 1}, {"products", StatePending, 1}}
	if err != nil || len(counts) != len(want) {
		t.Fatalf("Count = %+v, %v; want %+v", counts, err, want)
	}
	for i := range want {
		if counts[i] != want[i] {
			t.Errorf("Count[%d] = %+v, want %+v", i, counts[i], want[i])
		}
	}

	clk.Advance(8 * 24 * time.Hour)
	n, err := s.PruneDone(ctx, 7*24*time.Hour)
	if err != nil || n != 1 {
		t.Errorf("PruneDone = %d, %v; want 1", n, err)
	}
	if _, ok, _ := s.Item(ctx, a); ok {
		t.Error("done item still there after prune")
	}
	if _, ok, _ := s.Item(ctx, b); !ok {
		t.Error("prune deleted a parked item")
	}
	if id, ok, _ := s.Identity(ctx, "organization", "A"); !ok || id.CRMID != "crm-a" {
		t.Error("prune touched the identity map")
	}
}

func TestEnqueueRejectsBadItems(t *testing.T) {
	s, _ := openTest(t)
	tests := []struct {
		name string
		it   OutboxItem
	}{
		{"unknown op", OutboxItem{Stream: "s", Entity: "e", ERPKey: "k", Op: "upsert"}},
		{"no key", OutboxItem{Stream: "s", Entity: "e", Op: OpCreate}},
		{"no stream", OutboxItem{Entity: "e", ERPKey: "k", Op: OpCreate}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Update(context.Background(), func(tx *Tx) error { _, err := tx.Enqueue(tt.it); return err })
			if err == nil {
				t.Error("Enqueue accepted a bad item")
			}
		})
	}
	err := s.Update(context.Background(), func(tx *Tx) error { return tx.MarkInflight(999) })
	if !errors.Is(err, ErrNotOpen) {
		t.Errorf("MarkInflight(unknown) = %v, want ErrNotOpen", err)
	}
}
