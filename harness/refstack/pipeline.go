package refstack

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// pipeline turns the model's messages into broadcast frames: it renders and
// prepares each message once, applies the WS fault modes of its feature and
// hands the result to the hub. It is used under the server's publish lock
// (send and reset are not safe for concurrent use); delayed messages go out
// from one goroutine per delayed feature.
type pipeline struct {
	hub   *hub
	noSeq bool
	feats [4]*featurePipe // nil: the feature is clean on WS
	buf   []byte
	out   []*websocket.PreparedMessage
}

type featurePipe struct {
	ff     FeatureFaults
	render render
	rng    *rand.Rand

	count map[string]int                        // reorder: messages seen per key
	held  map[string]*websocket.PreparedMessage // reorder: first of a swapped pair

	delay *delayer
}

func newPipeline(h *hub, faults Faults, noSeq bool, seed int64) *pipeline {
	p := &pipeline{hub: h, noSeq: noSeq}
	for i, f := range Features {
		ff := faults[f]
		if !ff.ws() {
			continue
		}
		fp := &featurePipe{
			ff:     ff,
			render: render{decimals: MoneyDecimals, omit: ff.OmitField, noSeq: noSeq},
			rng:    rand.New(rand.NewPCG(uint64(seed), uint64(i)+1)),
			count:  map[string]int{},
			held:   map[string]*websocket.PreparedMessage{},
		}
		if ff.Round != nil {
			fp.render.decimals = *ff.Round
		}
		if ff.Delay > 0 {
			fp.delay = newDelayer(h, ff.Delay)
		}
		p.feats[i] = fp
	}
	return p
}

// start runs the delayers until stop is closed; wg tracks them.
func (p *pipeline) start(stop <-chan struct{}, wg *sync.WaitGroup) {
	for _, fp := range p.feats {
		if fp != nil && fp.delay != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fp.delay.run(stop)
			}()
		}
	}
}

// prepare renders m and frames it once for every client.
func (p *pipeline) prepare(m Message, r render) *websocket.PreparedMessage {
	p.buf = appendMessage(p.buf[:0], m, r)
	return p.prepareRaw(p.buf)
}

// ingestGrace bounds how long one send waits for clients that are more
// than half a queue behind (see hub.waitRoom).
const ingestGrace = time.Second

// send broadcasts msgs in order, faults applied. It publishes in chunks of
// a quarter queue and, before each, waits (ingestGrace at most per send)
// while a client is more than half a queue behind.
func (p *pipeline) send(msgs []Message) {
	deadline := time.Now().Add(ingestGrace)
	chunk := max(1, p.hub.queueSize/4)
	out := p.out[:0]
	flush := func() {
		p.hub.publishPaced(out, deadline)
		clear(out)
		out = out[:0]
	}
	clean := render{decimals: MoneyDecimals, noSeq: p.noSeq}
	for _, m := range msgs {
		fp := p.feats[m.Feature.index()]
		if fp == nil {
			out = append(out, p.prepare(m, clean))
			if len(out) >= chunk {
				flush()
			}
			continue
		}
		if fp.ff.Drop > 0 && fp.rng.Float64() < fp.ff.Drop {
			continue
		}
		pm := p.prepare(m, fp.render)
		frames := []*websocket.PreparedMessage{pm}
		if fp.ff.Reorder {
			frames = fp.reorder(m.Key(), pm)
		}
		if fp.ff.Duplicate > 0 {
			var dup []*websocket.PreparedMessage
			for _, f := range frames {
				dup = append(dup, f)
				if fp.rng.Float64() < fp.ff.Duplicate {
					dup = append(dup, f)
				}
			}
			frames = dup
		}
		if fp.delay != nil {
			fp.delay.push(frames)
			continue
		}
		out = append(out, frames...)
		if len(out) >= chunk {
			flush()
		}
	}
	flush()
	p.out = out
}

// reorder holds the first message of every other same-key pair back and
// releases it right after the second.
func (fp *featurePipe) reorder(key string, pm *websocket.PreparedMessage) []*websocket.PreparedMessage {
	n := fp.count[key]
	fp.count[key] = n + 1
	switch n % 4 {
	case 0:
		fp.held[key] = pm
		return nil
	case 1:
		first := fp.held[key]
		delete(fp.held, key)
		return []*websocket.PreparedMessage{pm, first}
	}
	return []*websocket.PreparedMessage{pm}
}

// reset forgets per-session fault state (held messages belong to the old
// session and are dropped). Already delayed messages still go out.
func (p *pipeline) reset() {
	for _, fp := range p.feats {
		if fp != nil {
			clear(fp.count)
			clear(fp.held)
		}
	}
}

// delayer publishes frames a fixed time after they were pushed, in order.
type delayer struct {
	hub  *hub
	d    time.Duration
	mu   sync.Mutex
	q    []delayed
	wake chan struct{}
}

type delayed struct {
	due    time.Time
	frames []*websocket.PreparedMessage
}

func newDelayer(h *hub, d time.Duration) *delayer {
	return &delayer{hub: h, d: d, wake: make(chan struct{}, 1)}
}

func (d *delayer) push(frames []*websocket.PreparedMessage) {
	if len(frames) == 0 {
		return
	}
	d.mu.Lock()
	d.q = append(d.q, delayed{due: time.Now().Add(d.d), frames: frames})
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *delayer) run(stop <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.mu.Lock()
		now := time.Now()
		var ready []*websocket.PreparedMessage
		i := 0
		for ; i < len(d.q) && !d.q[i].due.After(now); i++ {
			ready = append(ready, d.q[i].frames...)
		}
		d.q = d.q[i:]
		wait := time.Duration(-1)
		if len(d.q) > 0 {
			wait = d.q[0].due.Sub(now)
		}
		d.mu.Unlock()
		d.hub.publishPaced(ready, now.Add(ingestGrace))

		var tc <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			tc = timer.C
		}
		select {
		case <-stop:
			return
		case <-d.wake:
		case <-tc:
		}
	}
}

// prepareRaw frames an already rendered message once for every client.
func (p *pipeline) prepareRaw(b []byte) *websocket.PreparedMessage {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, b)
	if err != nil {
		panic("refstack: preparing a text frame: " + err.Error()) // fails for bad message types only
	}
	return pm
}
