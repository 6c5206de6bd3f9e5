package restsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownGrace bounds how long Serve waits for in-flight requests.
const shutdownGrace = 5 * time.Second

// Serve runs sim on addr (e.g. "127.0.0.1:8080"; port 0 picks a free one)
// until ctx is done, then shuts down. ready, when set, is called once
// listening with the base URL ("http://127.0.0.1:8080/rest", what a
// resterp.RouteSpec takes). It returns nil after a clean shutdown.
func Serve(ctx context.Context, addr string, sim *Sim, ready func(baseURL string)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           sim,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready("http://" + ln.Addr().String() + BasePath)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving Protheus REST simulator: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serving Protheus REST simulator: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("shutting down Protheus REST simulator: %w", err)
	}
	return nil
}
