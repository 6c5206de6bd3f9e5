package bridge

import (
	"context"
	"iter"

	"github.com/erpbridge/erpbridge/erp"
)

// prefetch reads pages one ahead in their own goroutine, so the ERP query
// for the next page runs while the engine maps and compares the current
// one. Pages still arrive in order, one at a time, and the caller still
// moves its cursor only after handling a page: a crash or stop replays
// exactly what it did without read-ahead. Breaking out of the loop cancels
// the read ahead and waits for it to end.
func prefetch(ctx context.Context, pages func(context.Context) iter.Seq2[erp.Page, error]) iter.Seq2[erp.Page, error] {
	type item struct {
		page erp.Page
		err  error
	}
	return func(yield func(erp.Page, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		ch := make(chan item) // unbuffered: at most one page read ahead
		go func() {
			defer close(ch)
			for p, err := range pages(ctx) {
				select {
				case ch <- item{p, err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}()
		defer func() {
			cancel()
			for range ch { // let the reader finish before returning
			}
		}()
		for it := range ch {
			if !yield(it.page, it.err) {
				return
			}
		}
	}
}
