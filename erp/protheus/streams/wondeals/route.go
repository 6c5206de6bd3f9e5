package wondeals

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
)

// A won deal's order is made in one company and branch of the estate, its
// destination (protheus.Branch, "02/01"): the one its deal field names
// (won_deals.filial_field), else its pipeline's (won_deals.routes), else
// won_deals.filial of the first company. The destination travels with the
// order (erp.Order.Destination) and is recorded with the deal's writeback,
// so the ERP is asked about the order where it was made.

// router decides a deal's destination.
type router struct {
	def       protheus.Branch
	companies []string
	// byPipeline is the routes by pipeline id.
	byPipeline map[string]protheus.Branch
	// fieldID is the deal custom field naming the destination ("" none),
	// label its label, for messages.
	fieldID, label string
	// serves reports whether a branch is one the bridge serves.
	serves func(protheus.Branch) error
}

// destination implements inbound.Options.Destination.
func (r *router) destination(_ context.Context, d inbound.Deal) (string, error) {
	if r.fieldID != "" {
		if v := strings.TrimSpace(d.Fields[r.fieldID]); v != "" {
			b, err := protheus.ParseBranch(v)
			if err != nil {
				return "", fmt.Errorf("%w: the deal's field %q: %v", inbound.ErrNoDestination, r.label, err)
			}
			if err := r.serves(b); err != nil {
				return "", fmt.Errorf("%w: the deal's field %q names %s: %v", inbound.ErrNoDestination, r.label, b, err)
			}
			return b.String(), nil
		}
	}
	if b, ok := r.byPipeline[d.PipelineID]; ok {
		return b.String(), nil
	}
	return r.def.String(), nil
}

// branchOf reads a destination ("" the default).
func (r *router) branchOf(dest string) (protheus.Branch, error) {
	if dest == "" {
		return r.def, nil
	}
	return protheus.ParseBranch(dest)
}

// servesBranch is router.serves: a company of erp.companies and, when the
// orders stream names its branches, one of them.
func servesBranch(companies []string, named func(company string) ([]string, bool)) func(protheus.Branch) error {
	return func(b protheus.Branch) error {
		if !slices.Contains(companies, b.Company) {
			return fmt.Errorf("company %s is not one the bridge serves (erp.companies: %s)", b.Company, strings.Join(companies, ", "))
		}
		if named == nil {
			return nil
		}
		if branches, ok := named(b.Company); ok && !slices.ContainsFunc(branches, func(f string) bool { return b.Same(protheus.Branch{Company: b.Company, Filial: f}) }) {
			return fmt.Errorf("branch %s is not one streams.orders reads (%s)", b, strings.Join(branches, ", "))
		}
		return nil
	}
}

// routedSink sends each order to the sink of its destination, opened on
// first use (a staging sink writes that company's tables with that
// branch; a rest sink sends the company and the branch).
type routedSink struct {
	r    *router
	open func(protheus.Branch) (erp.OrderSink, error)

	mu    sync.Mutex
	sinks map[string]erp.OrderSink
}

var (
	_ erp.OrderSink        = (*routedSink)(nil)
	_ erp.OrderSinkChecker = (*routedSink)(nil)
)

// sink returns the sink of a destination.
func (s *routedSink) sink(dest string) (erp.OrderSink, error) {
	b, err := s.r.branchOf(dest)
	if err != nil {
		return nil, fmt.Errorf("the order's destination: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.sinks[b.String()]; ok {
		return k, nil
	}
	k, err := s.open(b)
	if err != nil {
		return nil, err
	}
	if s.sinks == nil {
		s.sinks = map[string]erp.OrderSink{}
	}
	s.sinks[b.String()] = k
	return k, nil
}

// Submit implements erp.OrderSink.
func (s *routedSink) Submit(ctx context.Context, o erp.Order) (erp.OrderResult, error) {
	k, err := s.sink(o.Destination)
	if err != nil {
		return erp.OrderResult{}, err
	}
	return k.Submit(ctx, o)
}

// Status implements erp.OrderSink: asked where the order was made.
func (s *routedSink) Status(ctx context.Context, dealID, dest string) (erp.OrderResult, bool, error) {
	k, err := s.sink(dest)
	if err != nil {
		return erp.OrderResult{}, false, err
	}
	return k.Status(ctx, dealID, dest)
}

// Check implements erp.OrderSinkChecker: the sinks of the default and of
// every route, each company's once (the tables are the company's).
func (s *routedSink) Check(ctx context.Context) error {
	dests := []protheus.Branch{s.r.def}
	for _, b := range s.r.byPipeline {
		dests = append(dests, b)
	}
	var errs []error
	checked := map[string]bool{}
	for _, b := range dests {
		if checked[b.Company] {
			continue
		}
		checked[b.Company] = true
		k, err := s.sink(b.String())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if c, ok := k.(erp.OrderSinkChecker); ok {
			errs = append(errs, c.Check(ctx))
		}
	}
	return errors.Join(errs...)
}
