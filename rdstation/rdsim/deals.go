package rdsim

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// MaxBatchItems is the most deal products one batch call accepts (more → 413).
const MaxBatchItems = 100

var (
	discountTypes = []string{"value", "percent", "percentage"}
	recurrences   = []string{"spare", "monthly", "annual"}
	dealOrders    = []string{"created_at", "updated_at", "name", "closed_at", "prediction_date", "rating", "amount_total"}
)

// dealProductTotal is price×amount − discount (value) or ×(1 − d/100) (percent), exact.
func dealProductTotal(p DealProduct) decimal.Decimal {
	gross := p.Price.Mul(p.Amount)
	if isPercent(p.DiscountType) {
		return gross.Sub(gross.Mul(p.Discount).Shift(-2))
	}
	return gross.Sub(p.Discount)
}

// isPercent reports a discount type that reads the discount as a percentage.
func isPercent(discountType string) bool {
	return discountType == "percent" || discountType == "percentage"
}

// dealAmounts sums the products: spare ones into amount_unique, recurring
// ones (monthly, annual) into amount_montly; amount_total is both.
func dealAmounts(d *Deal) (unique, monthly, total decimal.Decimal) {
	for _, p := range d.Products {
		if p.Recurrence == "monthly" || p.Recurrence == "annual" {
			monthly = monthly.Add(dealProductTotal(p))
		} else {
			unique = unique.Add(dealProductTotal(p))
		}
	}
	return unique, monthly, unique.Add(monthly)
}

func (c *call) renderDealProduct(dp *DealProduct) obj {
	o := obj{"_id": dp.ID, "id": dp.ID, "product_id": dp.ProductID, "price": money(dp.Price), "amount": money(dp.Amount),
		"amount_decimal": money(dp.Amount), "discount": money(dp.Discount), "discount_type": dp.DiscountType,
		"recurrence": dp.Recurrence, "total": money(dealProductTotal(*dp)), "name": nil, "description": nil, "base_price": nil,
		"created_at": ts(dp.CreatedAt), "updated_at": ts(dp.UpdatedAt)}
	if p, ok := c.d.products.get(dp.ProductID); ok {
		o["name"], o["description"], o["base_price"] = p.Name, nullable(p.Description), money(p.BasePrice)
	}
	return o
}

func (c *call) renderDealProducts(d *Deal) []any {
	out := make([]any, 0, len(d.Products))
	for i := range d.Products {
		out = append(out, c.renderDealProduct(&d.Products[i]))
	}
	return out
}

// renderDeal renders a deal; read marks GET responses (deal_pipeline, and
// organization subject to OmitOrganizationInDealReads).
func (c *call) renderDeal(dl *Deal, read bool) obj {
	unique, monthly, total := dealAmounts(dl)
	o := obj{"_id": dl.ID, "id": dl.ID, "name": dl.Name, "win": boolPtrJSON(dl.Win), "hold": boolPtrJSON(dl.Hold),
		"closed_at": tsPtr(dl.ClosedAt), "prediction_date": nullable(dl.PredictionDate), "rating": dl.Rating,
		"interactions": dl.Interactions, "created_at": ts(dl.CreatedAt), "updated_at": ts(dl.UpdatedAt),
		"amount_unique": money(unique), "amount_montly": money(monthly), "amount_total": money(total),
		"user": c.userRef(dl.UserID), "deal_products": c.renderDealProducts(dl),
		"deal_custom_fields": c.renderValues(dl.CustomFields), "deal_source_id": nullable(dl.SourceID),
		"campaign_id": nullable(dl.CampaignID), "deal_lost_reason_id": nullable(dl.LostReasonID),
		"deal_lost_note": nullable(dl.LostNote), "from_rdsm_integration": dl.FromRDSM,
		"deal_stage": nil, "deal_source": nil, "campaign": nil, "deal_lost_reason": nil}
	if st, ok := c.d.stages.get(dl.StageID); ok {
		o["deal_stage"] = obj{"_id": st.ID, "id": st.ID, "name": st.Name, "nickname": nullable(st.Nickname), "deal_pipeline_id": st.PipelineID}
		if p, ok := c.d.pipelines.get(st.PipelineID); ok && read {
			o["deal_pipeline"] = obj{"id": p.ID, "name": p.Name}
		}
	}
	if n, ok := c.d.sources.get(dl.SourceID); ok {
		o["deal_source"] = obj{"_id": n.ID, "id": n.ID, "name": n.Name}
	}
	if n, ok := c.d.campaigns.get(dl.CampaignID); ok {
		o["campaign"] = obj{"_id": n.ID, "id": n.ID, "name": n.Name}
	}
	if n, ok := c.d.lostReasons.get(dl.LostReasonID); ok {
		o["deal_lost_reason"] = obj{"_id": n.ID, "name": n.Name}
	}
	if !read || !c.sw.OmitOrganizationInDealReads {
		o["organization"] = nil
		if org, ok := c.d.orgs.get(dl.OrganizationID); ok {
			ref := orgRef(org)
			ref["user"] = c.userRef(org.UserID)
			o["organization"] = ref
		}
	}
	contacts := []any{}
	for _, id := range dl.ContactIDs {
		if ct, ok := c.d.contacts.get(id); ok {
			contacts = append(contacts, contactRef(ct))
		}
	}
	o["contacts"] = contacts
	return o
}

// parseBound reads a start_date/end_date: "2006-01-02T15:04:05" (account
// time), RFC 3339, or a bare date (an end date then covers the whole day).
func parseBound(s string, end bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", s, accountZone); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, accountZone); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
		return t, true
	}
	return time.Time{}, false
}

// dealFilter builds the GET /deals predicate; ok=false after writing a 422.
func (c *call) dealFilter() (func(*Deal) bool, bool) {
	q := c.q
	var preds []func(*Deal) bool
	add := func(p func(*Deal) bool) { preds = append(preds, p) }
	switch q.Get("win") {
	case "true":
		add(func(d *Deal) bool { return d.Win != nil && *d.Win })
	case "false":
		add(func(d *Deal) bool { return d.Win != nil && !*d.Win })
	case "null":
		add(func(d *Deal) bool { return d.Win == nil })
	}
	switch q.Get("closed_at") {
	case "true":
		add(func(d *Deal) bool { return d.Win != nil })
	case "false":
		add(func(d *Deal) bool { return d.Win == nil })
	}
	if q.Get("hold") == "true" {
		add(func(d *Deal) bool { return d.Hold != nil && *d.Hold })
	}
	for param, get := range map[string]func(*Deal) string{
		"user_id": func(d *Deal) string { return d.UserID }, "closed_by_id": func(d *Deal) string { return d.ClosedByID },
		"deal_stage_id": func(d *Deal) string { return d.StageID }, "deal_lost_reason_id": func(d *Deal) string { return d.LostReasonID },
		"campaign_id": func(d *Deal) string { return d.CampaignID }, "deal_source_id": func(d *Deal) string { return d.SourceID },
		"organization": func(d *Deal) string { return d.OrganizationID },
		"deal_pipeline_id": func(d *Deal) string {
			if st, ok := c.d.stages.get(d.StageID); ok {
				return st.PipelineID
			}
			return ""
		},
	} {
		if want := q.Get(param); want != "" {
			add(func(d *Deal) bool { return get(d) == want })
		}
	}
	switch pp := q.Get("product_presence"); pp {
	case "":
	case "true":
		add(func(d *Deal) bool { return len(d.Products) > 0 })
	case "false":
		add(func(d *Deal) bool { return len(d.Products) == 0 })
	default:
		ids := strings.Split(pp, ",")
		add(func(d *Deal) bool {
			return slices.ContainsFunc(d.Products, func(p DealProduct) bool { return slices.Contains(ids, p.ProductID) })
		})
	}
	if name := q.Get("name"); name != "" {
		if q.Get("exact_name") == "true" {
			add(func(d *Deal) bool { return d.Name == name })
		} else {
			add(func(d *Deal) bool { return containsFold(d.Name, name) })
		}
	}
	periods := map[string]func(*Deal) (time.Time, bool){
		"closed_at_period": func(d *Deal) (time.Time, bool) {
			if d.ClosedAt == nil {
				return time.Time{}, false
			}
			return *d.ClosedAt, true
		},
		"created_at_period": func(d *Deal) (time.Time, bool) { return d.CreatedAt, true },
		"prediction_date_period": func(d *Deal) (time.Time, bool) {
			t, err := time.ParseInLocation(time.DateOnly, d.PredictionDate, accountZone)
			return t, err == nil
		},
	}
	errs := verrs{}
	for param, get := range periods {
		if q.Get(param) != "true" {
			continue
		}
		var start, end time.Time
		if s := q.Get("start_date"); s != "" {
			t, ok := parseBound(s, false)
			if !ok {
				errs.add("start_date", msgInvalid)
			}
			start = t
		}
		if s := q.Get("end_date"); s != "" {
			t, ok := parseBound(s, true)
			if !ok {
				errs.add("end_date", msgInvalid)
			}
			end = t
		}
		add(func(d *Deal) bool {
			t, ok := get(d)
			return ok && (start.IsZero() || !t.Before(start)) && (end.IsZero() || !t.After(end))
		})
	}
	if len(errs) > 0 {
		c.json(http.StatusUnprocessableEntity, obj{"errors": errs})
		return nil, false
	}
	return func(d *Deal) bool {
		for _, p := range preds {
			if !p(d) {
				return false
			}
		}
		return true
	}, true
}

func dealCursor(d *Deal) string {
	return fmt.Sprintf("i-%d,s-%s", d.CreatedAt.UnixMilli(), d.ID)
}

// GET /deals.
func (s *Sim) listDeals(c *call) {
	p, ok := c.paging(DefaultListLimit, MaxListLimit)
	if !ok {
		return
	}
	order, desc, known := c.orderAndDirection("created_at", "desc", dealOrders...)
	if !known && c.sw.StrictDealOrder {
		c.json(http.StatusUnprocessableEntity, obj{"errors": verrs{"order": {msgNotInc}}})
		return
	}
	keep, ok := c.dealFilter()
	if !ok {
		return
	}
	candidates := c.d.deals.all()
	if name := c.q.Get("name"); name != "" && c.q.Get("exact_name") == "true" {
		// The exact-name look-up adoption makes: only the deals so named.
		candidates = c.d.ix.dealNames.records(name)
	}
	var items []*Deal
	for _, d := range candidates {
		if keep(d) {
			items = append(items, d)
		}
	}
	sortStable(items, desc, func(a, b *Deal) int {
		switch order {
		case "name":
			return cmpFold(a.Name, b.Name)
		case "updated_at":
			return cmpTime(a.UpdatedAt, b.UpdatedAt)
		case "closed_at":
			return cmpTime(derefTime(a.ClosedAt), derefTime(b.ClosedAt))
		case "prediction_date":
			return cmp.Compare(a.PredictionDate, b.PredictionDate)
		case "rating":
			return cmp.Compare(a.Rating, b.Rating)
		case "amount_total":
			_, _, ta := dealAmounts(a)
			_, _, tb := dealAmounts(b)
			return ta.Cmp(tb)
		}
		return cmpTime(a.CreatedAt, b.CreatedAt)
	})
	var page []*Deal
	var more bool
	if cur := c.q.Get("next_page"); cur != "" {
		i := strings.LastIndex(cur, "s-")
		pos := -1
		if i >= 0 {
			id := cur[i+2:]
			pos = slices.IndexFunc(items, func(d *Deal) bool { return d.ID == id })
		}
		if pos < 0 {
			c.badRequest("Invalid next_page cursor")
			return
		}
		rest := items[pos+1:]
		reachable := len(rest)
		if !c.sw.NextPageBypassesCap {
			reachable = max(0, min(len(rest), ListingCap-(pos+1)))
		}
		page = rest[:min(p.limit, reachable)]
		more = len(page) > 0 && len(page) < len(rest)
	} else {
		page, more = pageOf(items, p, true)
	}
	out := make([]any, 0, len(page))
	for _, d := range page {
		out = append(out, c.renderDeal(d, true))
	}
	var next any
	if more && len(page) > 0 {
		next = dealCursor(page[len(page)-1])
	}
	c.json(http.StatusOK, obj{"deals": out, "has_more": more, "total": len(items), "next_page": next})
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func (s *Sim) getDeal(c *call) {
	d, ok := c.d.deals.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Deal")
		return
	}
	c.json(http.StatusOK, c.renderDeal(d, true))
}

// GET /deals/{id}/contacts.
func (s *Sim) listDealContacts(c *call) {
	d, ok := c.d.deals.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Deal")
		return
	}
	p, ok := c.paging(DefaultListLimit, MaxListLimit)
	if !ok {
		return
	}
	var items []*Contact
	for _, id := range d.ContactIDs {
		if ct, ok := c.d.contacts.get(id); ok {
			items = append(items, ct)
		}
	}
	page, more := pageOf(items, p, false)
	out := make([]any, 0, len(page))
	for _, ct := range page {
		out = append(out, c.renderContact(ct, false))
	}
	c.envelope("contacts", out, more, len(items))
}

// dealBody splits a deal body into its top level and the "deal" object.
func (c *call) dealBody() (top, deal form, ok bool) {
	m, err := decodeBody(c.r)
	if err != nil {
		c.badRequest("Malformed request body: " + err.Error())
		return form{}, form{}, false
	}
	top = form{m: m, errs: verrs{}}
	if inner, isObj := m["deal"].(map[string]any); isObj {
		return top, form{m: inner, errs: top.errs}, true
	}
	if c.sw.StrictBodies {
		c.badRequest("param is missing or the value is empty: deal")
		return form{}, form{}, false
	}
	return top, top, true
}

// refObject reads a {"_id": …} (or {"id": …}) reference object.
func refObject(f form, k string) (string, bool) {
	o, ok := f.object(k)
	if !ok {
		return "", f.isNull(k)
	}
	for _, key := range []string{"_id", "id"} {
		if v, ok := o.m[key].(string); ok {
			return v, true
		}
	}
	return "", false
}

// readDealCommon reads the fields create and update share from the "deal" object.
func (c *call) readDealCommon(f form, d *Deal) {
	c.readOwner(f, &d.UserID)
	if n, ok := f.integer("rating"); ok {
		if n < 0 || n > 5 {
			f.errs.add("rating", "must be between 0 and 5")
		}
		d.Rating = n
	}
	if v, ok := f.dateYMD("prediction_date"); ok {
		d.PredictionDate = v
	}
	c.readRef(f, "deal_source_id", &d.SourceID, &c.d.sources)
	c.readRef(f, "campaign_id", &d.CampaignID, &c.d.campaigns)
	c.readRef(f, "deal_lost_reason_id", &d.LostReasonID, &c.d.lostReasons)
	if v, ok := f.text("deal_lost_note", optional, 0); ok {
		d.LostNote = v
	}
}

func (c *call) readRef(f form, k string, dst *string, t *table[Named]) {
	if v, ok := f.id(k); ok {
		c.setRef(f, k, v, dst, t)
	}
}

func (c *call) setRef(f form, k, v string, dst *string, t *table[Named]) {
	if _, found := t.get(v); v != "" && !found {
		f.errs.add(k, msgNotFound)
		return
	}
	*dst = v
}

// readTopRefs reads the top-level deal_source{_id} and campaign{_id}.
func (c *call) readTopRefs(top form, d *Deal) {
	if v, ok := refObject(top, "deal_source"); ok {
		c.setRef(top, "deal_source", v, &d.SourceID, &c.d.sources)
	}
	if v, ok := refObject(top, "campaign"); ok {
		c.setRef(top, "campaign", v, &d.CampaignID, &c.d.campaigns)
	}
}

// POST /deals.
func (s *Sim) createDeal(c *call) {
	top, f, ok := c.dealBody()
	if !ok {
		return
	}
	d := Deal{ID: s.newID(), UserID: c.user, CreatedAt: c.now}
	d.Name, _ = f.text("name", required, 0)
	c.readDealCommon(f, &d)
	if v, ok := f.id("deal_stage_id"); ok && v != "" {
		if _, found := c.d.stages.get(v); !found {
			f.errs.add("deal_stage_id", msgNotFound)
		}
		d.StageID = v
	} else if ps := c.d.pipelinesByOrder(); len(ps) > 0 {
		if sts := c.d.stagesOf(ps[0].ID); len(sts) > 0 {
			d.StageID = sts[0].ID
		}
	}
	c.readTopRefs(top, &d)
	// organization: {_id} links an existing one, {name,…} creates one.
	var newOrg *Organization
	var newSegments []*Segment
	if of, ok := top.object("organization"); ok {
		if id, _ := of.m["_id"].(string); id != "" {
			if _, found := c.d.orgs.get(id); !found {
				top.errs.add("organization", msgNotFound)
			}
			d.OrganizationID = id
		} else {
			o := Organization{ID: s.newID(), UserID: c.user, CreatedAt: c.now, UpdatedAt: c.now}
			newSegments = s.readOrganization(c, of, &o, true)
			newOrg = &o
			d.OrganizationID = o.ID
		}
	} else if v, ok := f.id("organization_id"); ok && v != "" {
		if _, found := c.d.orgs.get(v); !found {
			f.errs.add("organization_id", msgNotFound)
		}
		d.OrganizationID = v
	}
	// contacts[] creates new contacts.
	var newContacts []*Contact
	if items, ok := top.objects("contacts"); ok {
		for _, it := range items {
			ct := Contact{ID: s.newID(), CreatedAt: c.now, UpdatedAt: c.now}
			s.readContact(c, it, &ct, true)
			if !c.values(it, "contact_custom_fields", "contact", &ct.CustomFields, ct.ID) {
				return
			}
			if c.sw.ContactNamesUnique && slices.ContainsFunc(newContacts, func(x *Contact) bool { return nameKey(x.Name) == nameKey(ct.Name) }) {
				c.duplicateName(it, it.key("name"))
			}
			newContacts = append(newContacts, &ct)
		}
	}
	// set_contacts links existing contacts: ["id", …] or [{"_id": …}, …].
	if raw, ok := top.m["set_contacts"].([]any); ok {
		for _, x := range raw {
			id, _ := x.(string)
			if m, isObj := x.(map[string]any); isObj {
				id, _ = m["_id"].(string)
				if id == "" {
					id, _ = m["id"].(string)
				}
			}
			if _, found := c.d.contacts.get(id); !found {
				top.errs.add("set_contacts", msgNotFound)
				continue
			}
			d.ContactIDs = append(d.ContactIDs, id)
		}
	}
	if items, ok := top.objects("deal_products"); ok {
		if len(items) > MaxBatchItems {
			c.tooLarge()
			return
		}
		for _, it := range items {
			dp := DealProduct{ID: s.newID(), CreatedAt: c.now, UpdatedAt: c.now}
			c.readDealProduct(it, &dp, true)
			d.Products = append(d.Products, dp)
		}
	}
	if !c.values(f, "deal_custom_fields", "deal", &d.CustomFields, d.ID) || c.failed(top) {
		return
	}
	for _, g := range newSegments {
		c.d.segments.add(g.ID, g)
	}
	if newOrg != nil {
		c.d.orgs.add(newOrg.ID, newOrg)
	}
	for _, ct := range newContacts {
		if ct.OrganizationID == "" {
			ct.OrganizationID = d.OrganizationID
		}
		c.d.contacts.add(ct.ID, ct)
		d.ContactIDs = append(d.ContactIDs, ct.ID)
	}
	d.UpdatedAt = c.now
	c.d.deals.add(d.ID, &d)
	c.json(c.createStatus(), c.renderDeal(&d, false))
}

// PUT /deals/{id}: deal_stage_id, deal_source{_id} and campaign{_id} are
// read at the top level only; deal_stage_id inside "deal" is ignored.
func (s *Sim) updateDeal(c *call) {
	cur, ok := c.d.deals.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Deal")
		return
	}
	top, f, ok := c.dealBody()
	if !ok {
		return
	}
	d := cur.clone()
	if v, ok := f.text("name", nonBlank, 0); ok {
		d.Name = v
	}
	c.readDealCommon(f, &d)
	c.readTopRefs(top, &d)
	if v, ok := top.id("deal_stage_id"); ok && v != "" {
		if _, found := c.d.stages.get(v); !found {
			top.errs.add("deal_stage_id", msgNotFound)
		}
		d.StageID = v
	}
	if v, ok := f.id("organization_id"); ok {
		if _, found := c.d.orgs.get(v); v != "" && !found {
			f.errs.add("organization_id", msgNotFound)
		}
		d.OrganizationID = v
	} else if v, ok := refObject(top, "organization"); ok {
		if _, found := c.d.orgs.get(v); v != "" && !found {
			top.errs.add("organization", msgNotFound)
		}
		d.OrganizationID = v
	}
	if h, ok := f.boolPtr("hold"); ok {
		d.Hold = h
	}
	if f.has("win") {
		win, ok := f.boolPtr("win")
		if ok {
			c.applyWin(f, &d, win)
		}
	}
	if !c.values(f, "deal_custom_fields", "deal", &d.CustomFields, d.ID) || c.failed(top) {
		return
	}
	d.UpdatedAt = c.now
	wasWon := cur.Win != nil && *cur.Win
	c.d.deals.replace(cur.ID, d)
	if !wasWon && d.Win != nil && *d.Win {
		s.copyWon(c, cur)
	}
	c.json(http.StatusOK, c.renderDeal(cur, false))
}

// copyWon makes the copy the pipeline of a deal just won asks for
// (config.deal_won.copy_to_pipeline): a new deal in the first stage of that
// pipeline with the original's name, owner, organization, contacts, source,
// campaign, products and custom fields (but unique ones), open, or won with
// Switches.WonCopyIsWon. Each win makes one copy. [U] what the copy is.
func (s *Sim) copyWon(c *call, d *Deal) {
	st, ok := c.d.stages.get(d.StageID)
	if !ok {
		return
	}
	p, ok := c.d.pipelines.get(st.PipelineID)
	if !ok || p.CopyToPipeline == "" {
		return
	}
	stages := c.d.stagesOf(p.CopyToPipeline)
	if len(stages) == 0 {
		return
	}
	cp := d.clone()
	cp.ID, cp.StageID, cp.CreatedAt, cp.UpdatedAt = s.newID(), stages[0].ID, c.now, c.now
	cp.Win, cp.Hold, cp.ClosedAt, cp.ClosedByID, cp.LostReasonID, cp.LostNote = nil, nil, nil, "", "", ""
	if c.sw.WonCopyIsWon {
		won, now := true, c.now
		cp.Win, cp.ClosedAt, cp.ClosedByID = &won, &now, d.ClosedByID
	}
	for i := range cp.Products {
		cp.Products[i].ID, cp.Products[i].CreatedAt, cp.Products[i].UpdatedAt = s.newID(), c.now, c.now
	}
	cp.CustomFields = slices.DeleteFunc(cp.CustomFields, func(v CustomFieldValue) bool {
		f, ok := c.d.fields.get(v.CustomFieldID)
		return ok && f.Unique
	})
	c.d.deals.add(cp.ID, &cp)
}

// applyWin wins (true), loses (false) or reopens (nil) a deal.
func (c *call) applyWin(f form, d *Deal, win *bool) {
	now := c.now
	switch {
	case win == nil:
		d.Win, d.ClosedAt, d.ClosedByID = nil, nil, ""
		d.LostReasonID, d.LostNote = "", ""
		return
	case *win:
		d.LostReasonID, d.LostNote = "", ""
		if c.sw.WinMovesToLastStage {
			if st, ok := c.d.stages.get(d.StageID); ok {
				if sts := c.d.stagesOf(st.PipelineID); len(sts) > 0 {
					d.StageID = sts[len(sts)-1].ID
				}
			}
		}
	default:
		if c.sw.LostReasonRequired && d.LostReasonID == "" {
			f.errs.add("deal_lost_reason_id", msgBlank)
		}
	}
	w := *win
	d.Win, d.Hold, d.ClosedByID = &w, nil, c.user
	d.ClosedAt = nil
	if !c.sw.WinKeepsClosedAtNull {
		d.ClosedAt = &now
	}
}

// --- deal products ---

func (c *call) tooLarge() {
	c.json(http.StatusRequestEntityTooLarge, obj{"errors": obj{"error_type": "PAYLOAD_TOO_LARGE",
		"error_message": "A batch accepts at most " + strconv.Itoa(MaxBatchItems) + " deal products"}})
}

// readDealProduct reads {product_id*,price,amount,discount*,discount_type*,recurrence}.
func (c *call) readDealProduct(f form, dp *DealProduct, create bool) {
	req := nonBlank
	if create {
		req = required
		dp.Amount, dp.Recurrence = decimal.NewFromInt(1), "spare"
	}
	if v, ok := f.id("product_id"); ok || create {
		if _, found := c.d.products.get(v); !found {
			if v == "" {
				f.errs.add(f.key("product_id"), msgBlank)
			} else {
				f.errs.add(f.key("product_id"), msgNotFound)
			}
		}
		dp.ProductID = v
	}
	if v, ok := f.money("price"); ok {
		if v.IsNegative() {
			f.errs.add(f.key("price"), "must be greater than or equal to 0")
		}
		dp.Price = v
	}
	if v, ok := f.money("amount"); ok {
		switch {
		case v.IsInteger():
		case c.sw.DealProductAmounts == AmountsTruncate:
			v = v.Truncate(0)
		case c.sw.DealProductAmounts == AmountsReject:
			f.errs.typed(f.key("amount"), "MUST_BE_INTEGER", "must be an integer")
		}
		if !v.IsPositive() {
			f.errs.add(f.key("amount"), "must be greater than 0")
		}
		dp.Amount = v
	}
	if v, ok := f.money("discount"); ok {
		if v.IsNegative() {
			f.errs.add(f.key("discount"), "must be greater than or equal to 0")
		}
		dp.Discount = v
	} else if create {
		f.errs.add(f.key("discount"), msgBlank)
	}
	if v, ok := f.text("discount_type", req, 0); ok {
		if !slices.Contains(discountTypes, v) {
			f.errs.add(f.key("discount_type"), msgNotInc)
		}
		dp.DiscountType = v
	}
	if v, ok := f.id("recurrence"); ok && v != "" {
		if !slices.Contains(recurrences, v) {
			f.errs.add(f.key("recurrence"), msgNotInc)
		}
		dp.Recurrence = v
	}
	if isPercent(dp.DiscountType) && dp.Discount.GreaterThan(decimal.NewFromInt(100)) {
		f.errs.add(f.key("discount"), "must be less than or equal to 100")
	}
}

func (c *call) dealForProducts() (*Deal, bool) {
	d, ok := c.d.deals.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Deal")
	}
	return d, ok
}

// GET /deals/{id}/deal_products.
func (s *Sim) listDealProducts(c *call) {
	d, ok := c.dealForProducts()
	if !ok {
		return
	}
	c.json(http.StatusOK, obj{"deal_products": c.renderDealProducts(d)})
}

// POST /deals/{id}/deal_products, unwrapped → 201.
func (s *Sim) createDealProduct(c *call) {
	d, ok := c.dealForProducts()
	if !ok {
		return
	}
	f, ok := c.body("deal_product", false)
	if !ok {
		return
	}
	dp := DealProduct{ID: s.newID(), CreatedAt: c.now, UpdatedAt: c.now}
	c.readDealProduct(f, &dp, true)
	if c.failed(f) {
		return
	}
	c.setDealProducts(d, append(d.Products, dp))
	c.json(http.StatusCreated, c.renderDealProduct(&d.Products[len(d.Products)-1]))
}

// setDealProducts makes products deal d's and stamps it updated, through
// the table like every change to a deal.
func (c *call) setDealProducts(d *Deal, products []DealProduct) {
	next := *d
	next.Products, next.UpdatedAt = products, c.now
	c.d.deals.replace(d.ID, next)
}

func dealProductIndex(d *Deal, id string) int {
	return slices.IndexFunc(d.Products, func(p DealProduct) bool { return p.ID == id })
}

// PUT /deals/{id}/deal_products/{dp_id}.
func (s *Sim) updateDealProduct(c *call) {
	d, ok := c.dealForProducts()
	if !ok {
		return
	}
	i := dealProductIndex(d, c.r.PathValue("dp_id"))
	if i < 0 {
		c.notFound("Deal product")
		return
	}
	f, ok := c.body("deal_product", false)
	if !ok {
		return
	}
	dp := d.Products[i]
	c.readDealProduct(f, &dp, false)
	if c.failed(f) {
		return
	}
	dp.UpdatedAt = c.now
	next := slices.Clone(d.Products)
	next[i] = dp
	c.setDealProducts(d, next)
	c.json(http.StatusOK, c.renderDealProduct(&d.Products[i]))
}

// DELETE /deals/{id}/deal_products/{dp_id}.
func (s *Sim) deleteDealProduct(c *call) {
	d, ok := c.dealForProducts()
	if !ok {
		return
	}
	i := dealProductIndex(d, c.r.PathValue("dp_id"))
	if i < 0 {
		c.notFound("Deal product")
		return
	}
	out := c.renderDealProduct(&d.Products[i])
	c.setDealProducts(d, slices.Delete(slices.Clone(d.Products), i, i+1))
	c.deleted(out)
}

// batchItems reads {"deal_products":[…]} and enforces the 100-item limit.
func (c *call) batchItems() (form, []form, bool) {
	m, err := decodeBody(c.r)
	if err != nil {
		c.badRequest("Malformed request body: " + err.Error())
		return form{}, nil, false
	}
	f := form{m: m, errs: verrs{}}
	items, ok := f.objects("deal_products")
	if !ok {
		if !c.failed(f) {
			c.badRequest("param is missing or the value is empty: deal_products")
		}
		return form{}, nil, false
	}
	if len(items) > MaxBatchItems {
		c.tooLarge()
		return form{}, nil, false
	}
	return f, items, !c.failed(f)
}

func (c *call) batchResponse(status int, d *Deal) {
	c.json(status, obj{"deal": obj{"_id": d.ID, "id": d.ID, "name": d.Name, "deal_products": c.renderDealProducts(d)}})
}

// itemID reads a batch item's id ("id" or "_id").
func itemID(f form) string {
	if v, ok := f.m["id"].(string); ok {
		return v
	}
	v, _ := f.m["_id"].(string)
	return v
}

// POST /deals/{id}/deal_products/batch → 201 {"deal":{…}}.
func (s *Sim) batchCreateDealProducts(c *call) {
	d, ok := c.dealForProducts()
	if !ok {
		return
	}
	f, items, ok := c.batchItems()
	if !ok {
		return
	}
	var add []DealProduct
	for _, it := range items {
		dp := DealProduct{ID: s.newID(), CreatedAt: c.now, UpdatedAt: c.now}
		c.readDealProduct(it, &dp, true)
		add = append(add, dp)
	}
	if c.failed(f) {
		return
	}
	c.setDealProducts(d, append(d.Products, add...))
	c.batchResponse(http.StatusCreated, d)
}

// PATCH /deals/{id}/deal_products/batch/update (items carry id).
func (s *Sim) batchUpdateDealProducts(c *call) {
	d, ok := c.dealForProducts()
	if !ok {
		return
	}
	f, items, ok := c.batchItems()
	if !ok {
		return
	}
	next := slices.Clone(d.Products)
	for _, it := range items {
		i := dealProductIndex(d, itemID(it))
		if i < 0 {
			c.notFound("Deal product " + itemID(it))
			return
		}
		c.readDealProduct(it, &next[i], false)
		next[i].UpdatedAt = c.now
	}
	if c.failed(f) {
		return
	}
	c.setDealProducts(d, next)
	c.batchResponse(http.StatusOK, d)
}

// DELETE /deals/{id}/deal_products/batch/destroy {"deal_products":[{"id"}]}.
func (s *Sim) batchDestroyDealProducts(c *call) {
	d, ok := c.dealForProducts()
	if !ok {
		return
	}
	_, items, ok := c.batchItems()
	if !ok {
		return
	}
	drop := map[string]bool{}
	for _, it := range items {
		id := itemID(it)
		if dealProductIndex(d, id) < 0 {
			c.notFound("Deal product " + id)
			return
		}
		drop[id] = true
	}
	c.setDealProducts(d, slices.DeleteFunc(slices.Clone(d.Products), func(p DealProduct) bool { return drop[p.ID] }))
	c.batchResponse(http.StatusOK, d)
}
