package resterp

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/erpbridge/erpbridge/erp"
)

// TestFindPages: every matching row, one route page at a time, past what
// one Find would read; rows the route did not filter are filtered here.
func TestFindPages(t *testing.T) {
	f := newFake(57)
	srv := httptest.NewServer(f)
	defer srv.Close()
	src, _ := NewSource(fakeSpec(srv.URL))
	var got []erp.Record
	pages := 0
	for recs, err := range src.FindPages(context.Background(), []erp.Match{{Column: "FILIAL", Value: ""}}, 10) {
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 10 {
			t.Fatalf("a page of %d rows, page size 10", len(recs))
		}
		pages++
		got = append(got, recs...)
	}
	if len(got) != 57 || pages != 6 || got[56].Key != "|000057" {
		t.Fatalf("FindPages read %d rows in %d pages (last %v), want 57 in 6", len(got), pages, got[len(got)-1].Key)
	}
	n := 0
	for recs, err := range src.FindPages(context.Background(), []erp.Match{{Column: "code", Value: "000007"}}, 10) {
		if err != nil || len(recs) != 1 || recs[0].Key != "|000007" {
			t.Fatalf("FindPages(code) = %v, %v", recs, err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d pages for one row", n)
	}
}
