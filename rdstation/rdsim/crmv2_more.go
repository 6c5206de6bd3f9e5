package rdsim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// CRM v2 reference data (pipelines, stages, lost reasons, users) and deal
// products; see crmv2.go.

func (s *Sim) routesV2More() {
	const v2 = "/crm/v2"
	s.v2mux.HandleFunc("GET "+v2+"/pipelines", s.v2read(s.v2ListPipelines))
	s.v2mux.HandleFunc("GET "+v2+"/pipelines/{id}/stages", s.v2read(s.v2ListStages))
	s.v2mux.HandleFunc("GET "+v2+"/lost_reasons", s.v2read(s.v2ListLostReasons))
	s.v2mux.HandleFunc("GET "+v2+"/users", s.v2read(s.v2ListUsers))
	s.v2mux.HandleFunc("GET "+v2+"/deals/{id}/products", s.v2read(s.v2ListDealProducts))
	s.v2mux.HandleFunc("POST "+v2+"/deals/{id}/products", s.v2WriteDealProduct)
	s.v2mux.HandleFunc("PUT "+v2+"/deals/{id}/products/{dp_id}", s.v2WriteDealProduct)
	s.v2mux.HandleFunc("DELETE "+v2+"/deals/{id}/products/{dp_id}", s.v2WriteDealProduct)
	s.v2mux.HandleFunc("POST "+v2+"/deals/{id}/notes", s.v2CreateNote)
}

// v2CreateNote writes a deal note ({"data":{"text"}}) through v1's
// POST /activities.
func (s *Sim) v2CreateNote(w http.ResponseWriter, r *http.Request) {
	user, _ := r.Context().Value(callKey{}).(string)
	c := &call{s: s, w: w, r: r, q: r.URL.Query(), user: user, now: s.clock.Now(), sw: s.Switches()}
	raw, err := decodeBody(r)
	in, ok := raw["data"].(map[string]any)
	if err != nil || !ok {
		c.json(http.StatusBadRequest, v2Errors(obj{"error_type": "BAD_REQUEST", "error_message": "data is required", "path": "data"}))
		return
	}
	st, out := s.v1Call(r, http.MethodPost, "/activities", obj{"activity": obj{"deal_id": c.fromV2ID(r.PathValue("id")), "text": in["text"]}})
	if st < 200 || st > 299 {
		c.json(st, v1ErrorsToV2(st, out))
		return
	}
	id, _ := out["id"].(string)
	c.json(http.StatusCreated, obj{"data": obj{"id": c.v2ID(id), "deal_id": r.PathValue("id"), "text": in["text"]}})
}

func (c *call) namedField(id, name string, f string) ([]string, rdqlKind, bool) {
	switch f {
	case "id":
		return []string{c.v2IDStr(id)}, rdqlID, true
	case "name":
		return []string{name}, rdqlText, true
	}
	return nil, 0, false
}

func (s *Sim) v2ListPipelines(c *call) {
	v2Listing(c, c.d.pipelinesByOrder(), false,
		func(p *Pipeline, f string) ([]string, rdqlKind, bool) { return c.namedField(p.ID, p.Name, f) },
		func(p *Pipeline) obj {
			return obj{"id": c.v2ID(p.ID), "name": p.Name, "order": p.Order, "created_at": v2Time(p.CreatedAt), "updated_at": v2Time(p.UpdatedAt)}
		})
}

func (s *Sim) v2ListStages(c *call) {
	id := c.fromV2ID(c.r.PathValue("id"))
	if _, ok := c.d.pipelines.get(id); !ok {
		c.v2NotFound("Pipeline")
		return
	}
	v2Listing(c, c.d.stagesOf(id), false,
		func(st *Stage, f string) ([]string, rdqlKind, bool) { return c.namedField(st.ID, st.Name, f) },
		func(st *Stage) obj {
			return obj{"id": c.v2ID(st.ID), "name": st.Name, "pipeline_id": c.v2ID(st.PipelineID), "order": st.Order,
				"created_at": v2Time(st.CreatedAt), "updated_at": v2Time(st.UpdatedAt)}
		})
}

func (s *Sim) v2ListLostReasons(c *call) {
	v2Listing(c, c.d.lostReasons.all(), false,
		func(n *Named, f string) ([]string, rdqlKind, bool) { return c.namedField(n.ID, n.Name, f) },
		func(n *Named) obj { return obj{"id": c.v2ID(n.ID), "name": n.Name} })
}

func (s *Sim) v2ListUsers(c *call) {
	v2Listing(c, c.d.users.all(), false,
		func(u *User, f string) ([]string, rdqlKind, bool) {
			switch f {
			case "email":
				return []string{u.Email}, rdqlText, true
			case "active":
				return []string{strconv.FormatBool(u.Active)}, rdqlID, true
			}
			return c.namedField(u.ID, u.Name, f)
		},
		func(u *User) obj {
			return obj{"id": c.v2ID(u.ID), "name": u.Name, "email": u.Email, "active": u.Active}
		})
}

// v1 ⇄ v2 spellings of a deal product's discount type and billing.
var (
	v2DiscountTypes = map[string]string{"value": "amount", "percent": "percentage", "percentage": "percentage"}
	v1DiscountTypes = map[string]string{"amount": "value", "percentage": "percentage"}
	v2Billing       = map[string]string{"spare": "one-time", "monthly": "monthly", "annual": "annually"}
	v1Billing       = map[string]string{"one-time": "spare", "monthly": "monthly", "annually": "annual"}
)

func (c *call) v2DealProduct(dp *DealProduct) obj {
	return obj{"id": c.v2ID(dp.ID), "product_id": c.v2ID(dp.ProductID), "price": money(dp.Price), "quantity": money(dp.Amount),
		"discount_type": v2DiscountTypes[dp.DiscountType], "discount": money(dp.Discount),
		"total_price": money(dealProductTotal(*dp)), "billing_frequency": v2Billing[dp.Recurrence]}
}

func (s *Sim) v2ListDealProducts(c *call) {
	d, ok := c.d.deals.get(c.fromV2ID(c.r.PathValue("id")))
	if !ok {
		c.v2NotFound("Deal")
		return
	}
	out := []any{}
	for i := range d.Products {
		out = append(out, c.v2DealProduct(&d.Products[i]))
	}
	c.json(http.StatusOK, obj{"data": out})
}

// v2WriteDealProduct runs POST, PUT and DELETE through the v1 deal
// product routes.
func (s *Sim) v2WriteDealProduct(w http.ResponseWriter, r *http.Request) {
	user, _ := r.Context().Value(callKey{}).(string)
	c := &call{s: s, w: w, r: r, q: r.URL.Query(), user: user, now: s.clock.Now(), sw: s.Switches()}
	dealID, dpID := c.fromV2ID(r.PathValue("id")), r.PathValue("dp_id")
	path := "/deals/" + url.PathEscape(dealID) + "/deal_products"
	if dpID != "" {
		dpID = c.fromV2ID(dpID)
		path += "/" + url.PathEscape(dpID)
	}
	var body map[string]any
	if r.Method != http.MethodDelete {
		raw, err := decodeBody(r)
		if err != nil {
			c.json(http.StatusBadRequest, v2Errors(v2Error("BAD_REQUEST", "Malformed request body: "+err.Error())))
			return
		}
		in, ok := raw["data"].(map[string]any)
		if !ok {
			c.json(http.StatusBadRequest, v2Errors(obj{"error_type": "BAD_REQUEST", "error_message": "data is required", "path": "data"}))
			return
		}
		body = map[string]any{}
		copyKeys(in, body, "price", "price", "quantity", "amount", "discount", "discount")
		if v, ok := in["product_id"].(string); ok {
			body["product_id"] = c.fromV2ID(v)
		}
		for k, conv := range map[string][2]any{"discount_type": {v1DiscountTypes, "discount_type"}, "billing_frequency": {v1Billing, "recurrence"}} {
			if v, ok := in[k].(string); ok {
				m := conv[0].(map[string]string)
				t, known := m[v]
				if !known {
					c.json(http.StatusUnprocessableEntity, v2Errors(obj{"error_type": "UNPROCESSABLE_ENTITY", "error_message": msgNotInc, "path": k}))
					return
				}
				body[conv[1].(string)] = t
			}
		}
	}
	st, out := s.v1Call(r, r.Method, path, body)
	switch {
	case st == http.StatusNoContent || r.Method == http.MethodDelete && st < 300:
		w.WriteHeader(http.StatusNoContent)
		return
	case st < 200 || st > 299:
		errs := v1ErrorsToV2(st, out)
		for _, it := range errs["errors"].([]any) {
			if m, ok := it.(obj); ok {
				if p, ok := m["path"].(string); ok {
					m["path"] = strings.NewReplacer("amount", "quantity", "recurrence", "billing_frequency").Replace(p)
				}
			}
		}
		c.json(st, errs)
		return
	}
	id, _ := out["id"].(string)
	s.mu.RLock()
	defer s.mu.RUnlock()
	c.d = s.d
	d, _ := c.d.deals.get(dealID)
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	if d != nil {
		if i := dealProductIndex(d, id); i >= 0 {
			c.json(status, obj{"data": c.v2DealProduct(&d.Products[i])})
			return
		}
	}
	c.json(status, obj{"data": nil})
}
