package main

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/spf13/cobra"
)

// flowMap is the data-flow map of a configuration: what `erpbridge map`
// prints, generated from the live config through the component registry.
type flowMap struct {
	Config    string
	Generated time.Time
	Version   string
	ERP, CRM  string
	Flows     []flow
}

// flow is one stream of the map.
type flow struct {
	Stream, Entity string
	Inbound        bool // target system → ERP
	Schedule       string
	Deletes        string
	Tables         []flowTable
}

// flowTable is one ERP table a stream reads.
type flowTable struct {
	Role, Physical, Key, Stamp, Filter string
	Columns                            []string // every column read
	Fields                             []flowField
	Optional                           string // how the stream goes without it ("" required)
}

// flowField is one target field and the expression giving it.
type flowField struct {
	Field, Expr string
	Custom      bool
	Columns     []string
}

func (f flow) Direction() string {
	if f.Inbound {
		return "CRM → ERP"
	}
	return "ERP → CRM"
}

// buildMap walks the enabled stream components of cfg: their outputs
// (stream, entity, schedule), the tables they read and their mappings.
func buildMap(cfg *config.Config) (flowMap, error) {
	m := flowMap{Config: cfg.Path(), Generated: time.Now(), Version: version}
	company := ""
	for _, c := range component.All() {
		s, ok := cfg.Component(c.Name())
		if !ok {
			continue
		}
		if cc, ok := s.(component.CompanyCoder); ok {
			company = cc.CompanyCode()
		}
		if d, ok := s.(component.Describer); ok {
			switch component.KindOf(c) {
			case component.KindERP:
				m.ERP = d.Describe()
			case component.KindTarget:
				m.CRM = d.Describe()
			}
		}
	}
	for _, c := range component.Streams() {
		s, ok := cfg.Component(c.Name())
		if !ok || !s.Enabled() {
			continue
		}
		var tables []flowTable
		if tr, ok := s.(component.TableReader); ok {
			ts, err := tr.Tables(company, cfg.Component)
			if err != nil {
				return m, fmt.Errorf("listing the tables of %s: %w", c.Name(), err)
			}
			for _, t := range ts {
				ft, err := newFlowTable(t)
				if err != nil {
					return m, fmt.Errorf("mapping of %s (%s): %w", c.Name(), t.Spec.Physical, err)
				}
				tables = append(tables, ft)
			}
		}
		deletes := "not applicable"
		if dp, ok := s.(component.DeletePolicy); ok {
			deletes = deletesText(dp.DeletesPolicy())
		}
		outs, _ := s.(component.Outputs)
		if outs == nil {
			continue
		}
		for _, o := range outs.Outputs() {
			if o.Off {
				continue
			}
			f := flow{Stream: o.Stream, Entity: o.Entity, Inbound: o.Inbound, Tables: tables,
				Schedule: cmp.Or(o.Schedule, cfg.Schedule.Incremental+" (schedule.incremental)"), Deletes: deletes}
			if o.Inbound {
				f.Deletes = "not applicable: won deals become ERP orders"
			}
			m.Flows = append(m.Flows, f)
		}
	}
	return m, nil
}

func deletesText(policy string) string {
	switch policy {
	case "ignore":
		return "ignore: a row deleted in the ERP (D_E_L_E_T_ = '*') is left as it is in the CRM"
	case "mark":
		return "mark: a row deleted in the ERP is marked in the CRM (delete_mark), never deleted"
	}
	return policy
}

func newFlowTable(t component.Table) (flowTable, error) {
	sp := t.Spec
	ft := flowTable{Role: t.Role, Physical: sp.Physical, Key: strings.Join(sp.KeyColumns, " + "), Stamp: sp.StampColumn}
	if sp.FilialColumn != "" {
		ft.Filter = fmt.Sprintf("%s = %q", sp.FilialColumn, sp.Filial)
	}
	if t.Optional {
		ft.Optional = cmp.Or(t.Without, "optional")
	}
	cols := append(slices.Clone(sp.KeyColumns), t.Extra...)
	for _, c := range sp.Columns {
		cols = append(cols, c.Name)
	}
	if mp := t.Mapping; mp != nil {
		add := func(fields map[string]string, custom bool) error {
			for _, name := range sortedKeys(fields) {
				c, err := mapping.ExprColumns(fields[name])
				if err != nil {
					return fmt.Errorf("field %q: %w", name, err)
				}
				ft.Fields = append(ft.Fields, flowField{Field: name, Expr: fields[name], Custom: custom, Columns: c})
				cols = append(cols, c...)
			}
			return nil
		}
		if err := add(mp.Fields, false); err != nil {
			return ft, err
		}
		if err := add(mp.CustomFields, true); err != nil {
			return ft, err
		}
	}
	cols = slices.DeleteFunc(cols, func(c string) bool { return c == "" || slices.Contains(t.Provided, c) })
	slices.Sort(cols)
	ft.Columns = slices.Compact(cols)
	return ft, nil
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// mermaidID makes a Mermaid node id of s.
func mermaidID(prefix, s string) string {
	return prefix + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

// writeMarkdown writes the map as Markdown with a Mermaid diagram.
func (m flowMap) writeMarkdown(w io.Writer) {
	fmt.Fprintf(w, "# erpbridge data-flow map\n\nGenerated by erpbridge %s from `%s` on %s. ERP: %s. Target: %s.\n\n",
		m.Version, m.Config, m.Generated.Format("2006-01-02 15:04 MST"), m.ERP, m.CRM)
	fmt.Fprint(w, "Every ERP table and column read, the expression giving each CRM field, the direction, the schedule and what deletes do. Nothing else is read or written.\n\n")
	fmt.Fprintln(w, "```mermaid\nflowchart LR")
	seen := map[string]bool{}
	for _, f := range m.Flows {
		ent := mermaidID("crm_", f.Entity)
		if !seen[ent] {
			fmt.Fprintf(w, "  %s[[\"CRM %s\"]]\n", ent, f.Entity)
			seen[ent] = true
		}
		for _, t := range f.Tables {
			tab := mermaidID("erp_", t.Physical)
			if !seen[tab] {
				fmt.Fprintf(w, "  %s[(\"%s<br/>%s\")]\n", tab, t.Physical, t.Role)
				seen[tab] = true
			}
			if f.Inbound {
				fmt.Fprintf(w, "  %s -->|%s| %s\n", ent, f.Stream, tab)
			} else {
				fmt.Fprintf(w, "  %s -->|%s| %s\n", tab, f.Stream, ent)
			}
		}
	}
	fmt.Fprint(w, "```\n")
	for _, f := range m.Flows {
		fmt.Fprintf(w, "\n## %s: %s (%s)\n\n- Schedule: `%s`\n- Deletes: %s\n", f.Stream, f.Entity, f.Direction(), f.Schedule, f.Deletes)
		for _, t := range f.Tables {
			fmt.Fprintf(w, "\n### %s `%s`\n\n- Key: `%s`", t.Role, t.Physical, t.Key)
			if t.Stamp != "" {
				fmt.Fprintf(w, "; changes read by `%s`", t.Stamp)
			}
			if t.Filter != "" {
				fmt.Fprintf(w, "; rows where `%s`", t.Filter)
			}
			if t.Optional != "" {
				fmt.Fprintf(w, "; optional (%s)", t.Optional)
			}
			fmt.Fprintf(w, "\n- Columns read: %s\n", "`"+strings.Join(t.Columns, "`, `")+"`")
			if len(t.Fields) == 0 {
				continue
			}
			fmt.Fprint(w, "\n| CRM field | expression | ERP columns |\n|---|---|---|\n")
			for _, fl := range t.Fields {
				name := fl.Field
				if fl.Custom {
					name = "custom field \"" + name + "\""
				}
				fmt.Fprintf(w, "| %s | `%s` | %s |\n", mdCell(name), mdCell(fl.Expr), mdCell(strings.Join(fl.Columns, ", ")))
			}
		}
	}
}

func mdCell(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }

var mapHTML = template.Must(template.New("map").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>erpbridge data-flow map</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #d0d5dd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eef1f5}code{font-size:.95em}svg text{font:12px system-ui,sans-serif}
.tab rect{fill:#e8f1fb;stroke:#2b6cb0}.ent rect{fill:#e9f7ef;stroke:#2f855a}line{stroke:#667085;stroke-width:1.5}
</style></head><body>
<h1>erpbridge data-flow map</h1>
<p>Generated by erpbridge {{.M.Version}} from <code>{{.M.Config}}</code> on {{.M.Generated.Format "2006-01-02 15:04 MST"}}. ERP: {{.M.ERP}}. Target: {{.M.CRM}}.</p>
<p>Every ERP table and column read, the expression giving each CRM field, the direction, the schedule and what deletes do. Nothing else is read or written.</p>
<svg width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="ERP tables and the CRM entities they flow to">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#667085"/></marker></defs>
{{range .Edges}}<line x1="{{.X1}}" y1="{{.Y1}}" x2="{{.X2}}" y2="{{.Y2}}" marker-end="url(#arrow)"><title>{{.Label}}</title></line>
<text x="{{.LX}}" y="{{.LY}}" text-anchor="middle">{{.Label}}</text>{{end}}
{{range .Tabs}}<g class="tab"><rect x="{{.X}}" y="{{.Y}}" width="{{$.BoxW}}" height="34" rx="4"/><text x="{{.TX}}" y="{{.TY}}">{{.Label}}</text></g>{{end}}
{{range .Ents}}<g class="ent"><rect x="{{.X}}" y="{{.Y}}" width="{{$.BoxW}}" height="34" rx="4"/><text x="{{.TX}}" y="{{.TY}}">{{.Label}}</text></g>{{end}}
</svg>
{{range .M.Flows}}<h2>{{.Stream}}: {{.Entity}} ({{.Direction}})</h2>
<ul><li>Schedule: <code>{{.Schedule}}</code></li><li>Deletes: {{.Deletes}}</li></ul>
{{range .Tables}}<h3>{{.Role}} <code>{{.Physical}}</code></h3>
<p>Key <code>{{.Key}}</code>{{if .Stamp}}; changes read by <code>{{.Stamp}}</code>{{end}}{{if .Filter}}; rows where <code>{{.Filter}}</code>{{end}}{{if .Optional}}; optional ({{.Optional}}){{end}}.<br>Columns read: {{range $i, $c := .Columns}}{{if $i}}, {{end}}<code>{{$c}}</code>{{end}}</p>
{{if .Fields}}<table><thead><tr><th>CRM field</th><th>expression</th><th>ERP columns</th></tr></thead><tbody>
{{range .Fields}}<tr><td>{{if .Custom}}custom field “{{.Field}}”{{else}}{{.Field}}{{end}}</td><td><code>{{.Expr}}</code></td><td>{{range $i, $c := .Columns}}{{if $i}}, {{end}}{{$c}}{{end}}</td></tr>{{end}}
</tbody></table>{{end}}{{end}}{{end}}
</body></html>
`))

type svgBox struct {
	Label        string
	X, Y, TX, TY int
}

type svgEdge struct {
	Label                  string
	X1, Y1, X2, Y2, LX, LY int
}

// writeHTML writes the map as a standalone HTML file with an SVG diagram
// (no script, nothing fetched: it opens offline and prints).
func (m flowMap) writeHTML(w io.Writer) error {
	const boxW, rowH, gap = 220, 48, 260
	tabs, ents := []*svgBox{}, []*svgBox{}
	idx := map[string]*svgBox{}
	box := func(list *[]*svgBox, key, label string, x int) *svgBox {
		if b, ok := idx[key]; ok {
			return b
		}
		y := 10 + len(*list)*rowH
		b := &svgBox{Label: label, X: x, Y: y, TX: x + 8, TY: y + 21}
		*list = append(*list, b)
		idx[key] = b
		return b
	}
	var edges []svgEdge
	for _, f := range m.Flows {
		for _, t := range f.Tables {
			tb := box(&tabs, "t:"+t.Physical, t.Physical+" ("+t.Role+")", 10)
			eb := box(&ents, "e:"+f.Entity, "CRM "+f.Entity, 10+boxW+gap)
			e := svgEdge{Label: f.Stream, X1: tb.X + boxW, Y1: tb.Y + 17, X2: eb.X, Y2: eb.Y + 17}
			if f.Inbound {
				e = svgEdge{Label: f.Stream, X1: eb.X, Y1: eb.Y + 17, X2: tb.X + boxW, Y2: tb.Y + 17}
			}
			e.LX, e.LY = (e.X1+e.X2)/2, (e.Y1+e.Y2)/2-4
			edges = append(edges, e)
		}
	}
	h := 20 + max(len(tabs), len(ents), 1)*rowH
	return mapHTML.Execute(w, map[string]any{"M": m, "Tabs": tabs, "Ents": ents, "Edges": edges,
		"W": 20 + 2*boxW + gap, "H": h, "BoxW": boxW})
}

func newMapCmd() *cobra.Command {
	var path, format, out string
	cmd := &cobra.Command{
		Use:   "map",
		Short: "Print the data-flow map: every ERP table and column read, where it goes, when",
		Long: `Print the data-flow map of the configuration, generated from it (nothing is
connected to): for every enabled stream, the direction, the schedule and what
a row deleted in the ERP does; every ERP table it reads (physical name, key,
stamp, branch filter) with every column read; and each CRM field with the
expression that gives it and the columns that expression reads.

--format markdown (default) writes Markdown with a Mermaid diagram; --format
html a standalone HTML page with an SVG diagram that opens offline. This is
the document the ERP team reviews and signs before go-live.`,
		Example: `  erpbridge map -c erpbridge.toml > data-flow.md
  erpbridge map --format html -o data-flow.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "markdown" && format != "html" {
				return usageError(fmt.Errorf("--format %q: want markdown or html", format))
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			m, err := buildMap(cfg)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("writing the map: %w", err)
				}
				defer f.Close()
				w = f
			}
			if format == "html" {
				return m.writeHTML(w)
			}
			m.writeMarkdown(w)
			return nil
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown or html")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	return cmd
}
