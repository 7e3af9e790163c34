package run

import (
	"context"
	"sync"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// startTap joins the stack's channel layer when the scenario has a tap, so
// the capture also holds every broadcast the backend made (tap records) and
// the diff can attribute WS losses. It runs until capCtx is done, like the
// subscribers, and leaves the group then; wg tracks it. A tap that cannot
// join is a problem of the run: the scenario asked for evidence it cannot
// have.
func (r *runner) startTap(ctx, capCtx context.Context, wg *sync.WaitGroup) {
	t := r.sc.Stack.Tap
	if t == nil {
		return
	}
	tap := &capture.Tap{
		Redis: t.Redis, Group: t.Group, Prefix: t.Prefix, PubSub: t.Layer == scenario.LayerPubSub,
		Clock: r.clock, Out: r.out,
	}
	jctx, cancel := context.WithTimeout(ctx, r.opt.ConnectTimeout)
	defer cancel()
	if err := tap.Start(jctx); err != nil {
		r.problem("the channel-layer tap did not join group %q: %v", t.Group, err)
		return
	}
	r.tap = tap
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-capCtx.Done()
		tap.Stop()
	}()
}

// tapDone reports a tap that could not read everything, once it stopped.
func (r *runner) tapDone() {
	if r.tap == nil {
		return
	}
	if st := r.tap.Stats(); st.Errors > 0 {
		r.problem("the channel-layer tap failed %d times (last: %s): its record of the broadcasts is incomplete", st.Errors, st.LastError)
	}
}
