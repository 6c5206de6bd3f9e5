package store

import (
	"context"
	"testing"
)

func TestMetaKeepsTheLastValuePerKey(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if _, ok, err := s.Meta(ctx, MetaCRMAccount); err != nil || ok {
		t.Fatalf("empty store: Meta = ok %v, err %v; want nothing", ok, err)
	}
	for _, v := range []string{"acct-1", "acct-2"} {
		if err := s.Update(ctx, func(tx *Tx) error { return tx.SetMeta(MetaCRMAccount, v) }); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok, err := s.Meta(ctx, MetaCRMAccount); err != nil || !ok || v != "acct-2" {
		t.Fatalf("Meta = %q, %v, %v; want acct-2", v, ok, err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.DeleteMeta(MetaCRMAccount) }); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Meta(ctx, MetaCRMAccount); err != nil || ok {
		t.Fatalf("after delete: ok %v, err %v", ok, err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.SetMeta("", "x") }); err == nil {
		t.Fatal("SetMeta with an empty key: no error")
	}
}
