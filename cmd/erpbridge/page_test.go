package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/bridge/store"
)

// The status page shows every stream with its last run and counts, the
// errors of a bad record with its key and reason (filterable by stream),
// the API budget panel and the run chart; the record lookup finds a record
// by ERP key and by CRM id with its writes and runs.
func TestStatusPage(t *testing.T) {
	e := newHealthEnv(t, health.Options{})
	ctx := context.Background()
	if _, err := e.erp.AddMessyRecords(ctx); err != nil {
		t.Fatal(err)
	}
	rep := e.sync("customers")
	errs, err := e.b.Store.Errors(ctx, store.OutboxFilter{Stream: "customers"})
	if err != nil || len(errs) == 0 {
		t.Fatalf("the messy rows left no error to show (err %v)", err)
	}
	bad := errs[0]

	code, page := get(t, e.url+"/", "")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d\n%s", code, page)
	}
	if os.Getenv("ERPBRIDGE_SAVE_PAGE") != "" {
		_ = os.WriteFile(filepath.Join(os.Getenv("ERPBRIDGE_SAVE_PAGE"), "index.html"), []byte(page), 0o644)
	}
	for _, want := range []string{
		`data-stream="customers"`, `data-stream="contacts"`, `data-stream="products"`,
		`<span class="run-ok">ok</span>`, "API budget", "requests sent",
		`class="chart"`, ">" + escHTML(bad.ERPKey) + "</a>", escHTML(bad.LastError), `http-equiv="refresh"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if _, filtered := get(t, e.url+"/?stream=products", ""); strings.Contains(filtered, escHTML(bad.LastError)) {
		t.Error("filtered to products, the page still shows the customers error")
	}

	ids, err := e.b.Store.ListIdentities(ctx, "organization", "", 1)
	if err != nil || len(ids) == 0 || ids[0].CRMID == "" {
		t.Fatalf("no synced organization to look up: %+v %v", ids, err)
	}
	id := ids[0]
	for _, q := range []string{id.ERPKey, id.CRMID} {
		code, rec := get(t, e.url+"/record?q="+url.QueryEscape(q), "")
		if code != http.StatusOK || !strings.Contains(rec, `<code>`+escHTML(id.ERPKey)+`</code>`) || !strings.Contains(rec, id.CRMID) ||
			!strings.Contains(rec, `<td>create</td>`) {
			t.Errorf("lookup %q = %d, lacks the record's key, CRM id or its create:\n%s", q, code, rec)
		}
		if !strings.Contains(rec, "<td>"+itoa(rep.RunID)+"</td>") {
			t.Errorf("lookup %q does not name the run %d that wrote it", q, rep.RunID)
		}
	}
	if _, rec := get(t, e.url+"/record?q=NOPE", ""); !strings.Contains(rec, "No record with ERP key or CRM id") {
		t.Errorf("an unknown key does not say so:\n%s", rec)
	}
}

func escHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
