package rdsim

import (
	"cmp"
	"net/http"
	"slices"
)

// --- pipelines and stages ---

// stagesOf returns a pipeline's stages by order.
func (d *data) stagesOf(pipelineID string) []*Stage {
	var out []*Stage
	for _, st := range d.stages.all() {
		if st.PipelineID == pipelineID {
			out = append(out, st)
		}
	}
	slices.SortStableFunc(out, func(a, b *Stage) int { return cmp.Compare(a.Order, b.Order) })
	return out
}

// pipelinesByOrder returns the pipelines by order; the first is the default.
func (d *data) pipelinesByOrder() []*Pipeline {
	out := d.pipelines.all()
	slices.SortStableFunc(out, func(a, b *Pipeline) int { return cmp.Compare(a.Order, b.Order) })
	return out
}

func (c *call) renderPipeline(p *Pipeline) obj {
	stages := []any{}
	for _, st := range c.d.stagesOf(p.ID) {
		stages = append(stages, obj{"_id": st.ID, "id": st.ID, "name": st.Name, "nickname": nullable(st.Nickname), "order": st.Order})
	}
	var copyTo any
	if p.CopyToPipeline != "" {
		copyTo = p.CopyToPipeline
		if t, ok := c.d.pipelines.get(p.CopyToPipeline); ok && c.sw.CopyToPipelineAsObject {
			copyTo = obj{"id": t.ID, "name": t.Name}
		}
	}
	return obj{"_id": p.ID, "id": p.ID, "name": p.Name, "order": p.Order, "deal_stages": stages,
		"config": obj{"deal_won": obj{"copy_to_pipeline": copyTo}}}
}

// GET /deal_pipelines → bare array.
func (s *Sim) listPipelines(c *call) {
	out := []any{}
	for _, p := range c.d.pipelinesByOrder() {
		out = append(out, c.renderPipeline(p))
	}
	c.json(http.StatusOK, out)
}

func (s *Sim) getPipeline(c *call) {
	p, ok := c.d.pipelines.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Deal pipeline")
		return
	}
	c.json(http.StatusOK, c.renderPipeline(p))
}

// POST/PUT /deal_pipelines {"deal_pipeline":{name*,order,
// config:{deal_won:{copy_to_pipeline}}}}: copy_to_pipeline is a pipeline
// id, {"id"}/{"_id"}, or null (no copy).
func (s *Sim) savePipeline(c *call) {
	var cur *Pipeline
	if id := c.r.PathValue("id"); id != "" {
		p, ok := c.d.pipelines.get(id)
		if !ok {
			c.notFound("Deal pipeline")
			return
		}
		cur = p
	}
	f, ok := c.body("deal_pipeline", true)
	if !ok {
		return
	}
	next := Pipeline{ID: s.newID(), Order: len(c.d.pipelines.order) + 1, CreatedAt: c.now}
	req := required
	if cur != nil {
		next, req = *cur, nonBlank
	}
	if v, ok := f.text("name", req, 0); ok {
		next.Name = v
	}
	if n, ok := f.integer("order"); ok {
		next.Order = n
	}
	if cfg, ok := f.object("config"); ok {
		if won, ok := cfg.object("deal_won"); ok && won.has("copy_to_pipeline") {
			var id string
			if _, isObj := won.m["copy_to_pipeline"].(map[string]any); isObj {
				id, _ = refObject(won, "copy_to_pipeline")
			} else {
				id, _ = won.id("copy_to_pipeline")
			}
			switch _, found := c.d.pipelines.get(id); {
			case id != "" && !found:
				won.errs.add(won.key("copy_to_pipeline"), msgNotFound)
			case id != "" && id == next.ID:
				won.errs.add(won.key("copy_to_pipeline"), "must be another pipeline")
			}
			next.CopyToPipeline = id
		}
	}
	if c.failed(f) {
		return
	}
	next.UpdatedAt = c.now
	if cur != nil {
		*cur = next
		c.json(http.StatusOK, c.renderPipeline(cur))
		return
	}
	c.d.pipelines.add(next.ID, &next)
	c.json(c.createStatus(), c.renderPipeline(&next))
}

func (c *call) renderStage(st *Stage) obj {
	var pipe any
	if p, ok := c.d.pipelines.get(st.PipelineID); ok {
		pipe = obj{"id": p.ID, "name": p.Name, "order": p.Order}
	}
	return obj{"_id": st.ID, "id": st.ID, "name": st.Name, "nickname": nullable(st.Nickname), "order": st.Order,
		"description": nullable(st.Description), "objective": nullable(st.Objective), "deal_pipeline": pipe,
		"created_at": ts(st.CreatedAt), "updated_at": ts(st.UpdatedAt)}
}

// GET /deal_stages?deal_pipeline_id= (default pipeline when omitted; limit ≤ 12).
func (s *Sim) listStages(c *call) {
	p, ok := c.paging(MaxStageLimit, MaxStageLimit)
	if !ok {
		return
	}
	pid := c.q.Get("deal_pipeline_id")
	if pid == "" {
		if ps := c.d.pipelinesByOrder(); len(ps) > 0 {
			pid = ps[0].ID
		}
	} else if _, ok := c.d.pipelines.get(pid); !ok {
		c.notFound("Deal pipeline")
		return
	}
	items := c.d.stagesOf(pid)
	page, more := pageOf(items, p, false)
	out := make([]any, 0, len(page))
	for _, st := range page {
		out = append(out, c.renderStage(st))
	}
	c.envelope("deal_stages", out, more, len(items))
}

func (s *Sim) getStage(c *call) {
	st, ok := c.d.stages.get(c.r.PathValue("id"))
	if !ok {
		c.notFound("Deal stage")
		return
	}
	c.json(http.StatusOK, c.renderStage(st))
}

// POST/PUT /deal_stages, unwrapped {deal_pipeline_id*,name*,nickname,order,description,objective}.
func (s *Sim) saveStage(c *call) {
	var cur *Stage
	if id := c.r.PathValue("id"); id != "" {
		st, ok := c.d.stages.get(id)
		if !ok {
			c.notFound("Deal stage")
			return
		}
		cur = st
	}
	f, ok := c.body("deal_stage", false)
	if !ok {
		return
	}
	next := Stage{ID: s.newID(), CreatedAt: c.now}
	req := required
	if cur != nil {
		next, req = *cur, nonBlank
	}
	if v, ok := f.id("deal_pipeline_id"); ok || req == required {
		if _, found := c.d.pipelines.get(v); !found {
			f.errs.add("deal_pipeline_id", msgNotFound)
		} else if v != next.PipelineID {
			if len(c.d.stagesOf(v)) >= MaxStageLimit {
				f.errs.add("deal_pipeline_id", "has reached the maximum of 12 stages")
			}
			next.PipelineID = v
		}
	}
	if v, ok := f.text("name", req, 0); ok {
		next.Name = v
	}
	for k, p := range map[string]*string{"nickname": &next.Nickname, "description": &next.Description, "objective": &next.Objective} {
		if v, ok := f.text(k, optional, 0); ok {
			*p = v
		}
	}
	if n, ok := f.integer("order"); ok {
		next.Order = n
	} else if cur == nil {
		next.Order = len(c.d.stagesOf(next.PipelineID)) + 1
	}
	if c.failed(f) {
		return
	}
	next.UpdatedAt = c.now
	if cur != nil {
		*cur = next
		c.json(http.StatusOK, c.renderStage(cur))
		return
	}
	c.d.stages.add(next.ID, &next)
	c.json(c.createStatus(), c.renderStage(&next))
}

// --- deal sources, campaigns, lost reasons ---

// namedKind describes one of the three name-only resources.
type namedKind struct {
	plural, wrapper, what string
	docWrapped            bool
	maxLen                int
	hasDescription        bool // false: lost reasons render {_id,name} only
	table                 func(*data) *table[Named]
}

var (
	sourcesKind = namedKind{plural: "deal_sources", wrapper: "deal_source", what: "Deal source", docWrapped: true,
		hasDescription: true, table: func(d *data) *table[Named] { return &d.sources }}
	campaignsKind = namedKind{plural: "campaigns", wrapper: "campaign", what: "Campaign", docWrapped: true,
		hasDescription: true, table: func(d *data) *table[Named] { return &d.campaigns }}
	lostReasonsKind = namedKind{plural: "deal_lost_reasons", wrapper: "deal_lost_reason", what: "Deal lost reason",
		maxLen: 40, table: func(d *data) *table[Named] { return &d.lostReasons }}
)

func (k namedKind) render(n *Named) obj {
	if !k.hasDescription {
		return obj{"_id": n.ID, "name": n.Name}
	}
	return obj{"_id": n.ID, "id": n.ID, "name": n.Name, "description": nullable(n.Description),
		"created_at": ts(n.CreatedAt), "updated_at": ts(n.UpdatedAt)}
}

func (s *Sim) listNamed(k namedKind) handler {
	return func(c *call) {
		p, ok := c.paging(DefaultListLimit, MaxListLimit)
		if !ok {
			return
		}
		q := c.q.Get("q")
		var items []*Named
		for _, n := range k.table(c.d).all() {
			if q == "" || containsFold(n.Name, q) {
				items = append(items, n)
			}
		}
		if c.q.Get("order") == "name" {
			sortStable(items, c.q.Get("direction") == "desc", func(a, b *Named) int { return cmpFold(a.Name, b.Name) })
		}
		page, more := pageOf(items, p, false)
		out := make([]any, 0, len(page))
		for _, n := range page {
			out = append(out, k.render(n))
		}
		c.envelope(k.plural, out, more, len(items))
	}
}

func (s *Sim) getNamed(k namedKind) handler {
	return func(c *call) {
		n, ok := k.table(c.d).get(c.r.PathValue("id"))
		if !ok {
			c.notFound(k.what)
			return
		}
		c.json(http.StatusOK, k.render(n))
	}
}

func (s *Sim) saveNamed(k namedKind) handler {
	return func(c *call) {
		t := k.table(c.d)
		var cur *Named
		if id := c.r.PathValue("id"); id != "" {
			n, ok := t.get(id)
			if !ok {
				c.notFound(k.what)
				return
			}
			cur = n
		}
		f, ok := c.body(k.wrapper, k.docWrapped)
		if !ok {
			return
		}
		next := Named{ID: s.newID(), CreatedAt: c.now}
		req := required
		if cur != nil {
			next, req = *cur, nonBlank
		}
		if v, ok := f.text("name", req, k.maxLen); ok {
			next.Name = v
		}
		if k.hasDescription {
			if v, ok := f.text("description", optional, 0); ok {
				next.Description = v
			}
		}
		if c.failed(f) {
			return
		}
		next.UpdatedAt = c.now
		if cur != nil {
			*cur = next
			c.json(http.StatusOK, k.render(cur))
			return
		}
		t.add(next.ID, &next)
		c.json(c.createStatus(), k.render(&next))
	}
}
