package capture

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/thor-trading/cutover-harness/harness/internal/jsonw"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// KindTap is the record kind of the channel-layer tap: a message the
// backend broadcast to the group (Body: the channel-layer message as JSON),
// or a note about the tap itself (Text: it joined or left the group; Err: it
// could not read or decode).
const KindTap = "tap"

// TapSrc is the Src of tap records.
const TapSrc = "tap"

// Tap listens to a Django Channels stack's channels_redis layer like one
// more consumer of the group the backend broadcasts to, and records every
// message group_send puts there. What the tap saw was broadcast; what a WS
// subscriber then missed, a consumer failed to deliver.
//
// With the core layer (channels_redis.core.RedisChannelLayer) the tap adds
// a channel of its own to the group's sorted set ("<prefix>:group:<group>",
// as group_add does) and pops its channel's sorted set
// ("<prefix><channel>") with BZPOPMIN, as a consumer's receive does; each
// member is 12 random bytes and a msgpack map. With the pub/sub layer
// (channels_redis.pubsub.RedisPubSubChannelLayer) it subscribes to
// "<prefix>__group__<group>", whose messages are msgpack maps. The tap is
// one more channel of the group: the layer's capacity applies to it too,
// and it reads as fast as Redis answers.
//
// Fill the fields, then Start; Stop ends it.
type Tap struct {
	// Redis is the layer's Redis URL, e.g. redis://127.0.0.1:6379/0.
	Redis string
	// Group is the group the backend broadcasts to.
	Group string
	// Prefix is the layer's prefix ("asgi" by default in channels_redis).
	Prefix string
	// PubSub selects the pub/sub layer; false is the core layer.
	PubSub bool
	// Clock and Out: where records go.
	Clock *Clock
	Out   *Writer

	client  *redis.Client
	pubsub  *redis.PubSub
	channel string // core: the tap's channel name
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	stats   TapStats
	stopped bool
}

// TapStats count what a tap recorded.
type TapStats struct {
	// Messages is the number of broadcasts recorded; Errors the reads or
	// decodes that failed. LastError is the last of them.
	Messages  int64
	Errors    int64
	LastError string
}

// coreRefresh: how often the tap renews its place in the group (the core
// layer drops channels older than its group_expiry, a day by default).
const coreRefresh = time.Minute

// popBatch is how many members one ZPOPMIN takes after a BZPOPMIN woke.
const popBatch = 256

// Start connects, joins the group and starts recording in the background.
// It returns once the tap is in the group, so every broadcast after it is
// recorded. ctx bounds the connection; the recording runs until Stop.
func (t *Tap) Start(ctx context.Context) error {
	opt, err := redis.ParseURL(t.Redis)
	if err != nil {
		return fmt.Errorf("tap: %q: %w", t.Redis, err)
	}
	opt.PoolSize = 2
	t.client = redis.NewClient(opt)
	if err := t.client.Ping(ctx).Err(); err != nil {
		t.client.Close()
		return fmt.Errorf("tap: cannot reach the channel layer's Redis at %s: %w", t.Redis, err)
	}
	var note string
	if t.PubSub {
		name := t.Prefix + "__group__" + t.Group
		t.pubsub = t.client.Subscribe(ctx, name)
		if _, err := t.pubsub.Receive(ctx); err != nil { // the subscription's confirmation
			t.pubsub.Close()
			t.client.Close()
			return fmt.Errorf("tap: subscribing to %s: %w", name, err)
		}
		note = fmt.Sprintf("subscribed to %s on %s (pub/sub layer)", name, t.Redis)
	} else {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		t.channel = "cutover-harness.tap." + hex.EncodeToString(b)
		if err := t.join(ctx); err != nil {
			t.client.Close()
			return err
		}
		note = fmt.Sprintf("joined group %s as channel %s on %s (core layer)", t.Group, t.channel, t.Redis)
	}
	_ = t.Out.Write(&Record{K: KindTap, Src: TapSrc, T: t.Clock.Now(), Text: note})
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.cancel, t.done = cancel, make(chan struct{})
	go func() {
		defer close(t.done)
		if t.PubSub {
			t.runPubSub(runCtx)
		} else {
			t.runCore(runCtx)
		}
	}()
	return nil
}

func (t *Tap) groupKey() string   { return t.Prefix + ":group:" + t.Group }
func (t *Tap) channelKey() string { return t.Prefix + t.channel }

// join adds the tap's channel to the group, as group_add does.
func (t *Tap) join(ctx context.Context) error {
	now := float64(time.Now().UnixNano()) / 1e9
	if err := t.client.ZAdd(ctx, t.groupKey(), redis.Z{Score: now, Member: t.channel}).Err(); err != nil {
		return fmt.Errorf("tap: joining group %s (%s): %w", t.Group, t.groupKey(), err)
	}
	return nil
}

// Stop stops recording: it takes what is still queued for the tap, leaves
// the group and closes the connection. It returns what the tap recorded.
// Stop may be called more than once.
func (t *Tap) Stop() TapStats {
	t.mu.Lock()
	if t.stopped || t.cancel == nil {
		st := t.stats
		t.mu.Unlock()
		return st
	}
	t.stopped = true
	t.mu.Unlock()
	t.cancel()
	<-t.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if t.PubSub {
		t.pubsub.Close()
	} else {
		t.drain(ctx)
		_ = t.client.ZRem(ctx, t.groupKey(), t.channel).Err()
		_ = t.client.Del(ctx, t.channelKey()).Err()
	}
	t.client.Close()
	t.mu.Lock()
	st := t.stats
	t.mu.Unlock()
	_ = t.Out.Write(&Record{K: KindTap, Src: TapSrc, T: t.Clock.Now(), Text: fmt.Sprintf("left the group after %d messages", st.Messages)})
	return st
}

// Stats returns what the tap recorded so far.
func (t *Tap) Stats() TapStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

func (t *Tap) runCore(ctx context.Context) {
	key := t.channelKey()
	refresh := time.Now().Add(coreRefresh)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		if time.Now().After(refresh) {
			if err := t.join(ctx); err != nil && ctx.Err() == nil {
				t.fail(err.Error())
			}
			refresh = time.Now().Add(coreRefresh)
		}
		z, err := t.client.BZPopMin(ctx, time.Second, key).Result()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, redis.Nil):
			continue
		case err != nil:
			t.fail("reading the tap's channel: " + err.Error())
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		t.coreMember(z.Member)
		// Take what else is queued in one round trip.
		if more, err := t.client.ZPopMin(ctx, key, popBatch).Result(); err == nil {
			for _, m := range more {
				t.coreMember(m.Member)
			}
		}
	}
}

// drain records what is still queued for the tap.
func (t *Tap) drain(ctx context.Context) {
	for {
		more, err := t.client.ZPopMin(ctx, t.channelKey(), popBatch).Result()
		if err != nil || len(more) == 0 {
			return
		}
		for _, m := range more {
			t.coreMember(m.Member)
		}
	}
}

func (t *Tap) coreMember(member any) {
	s, _ := member.(string)
	now := t.Clock.Now()
	if len(s) < 12 {
		t.bad(now, len(s), "a channel-layer member shorter than its 12-byte prefix")
		return
	}
	t.record(now, []byte(s[12:]))
}

func (t *Tap) runPubSub(ctx context.Context) {
	ch := t.pubsub.Channel(redis.WithChannelSize(4096))
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			t.record(t.Clock.Now(), []byte(m.Payload))
		}
	}
}

// record writes one broadcast: the msgpack message as JSON, without the
// layer's own "__asgi_channel__" member.
func (t *Tap) record(now int64, raw []byte) {
	body, err := MsgpackJSON(raw, "__asgi_channel__")
	if err != nil {
		t.bad(now, len(raw), "cannot decode a channel-layer message (an encrypted layer?): "+err.Error())
		return
	}
	t.mu.Lock()
	t.stats.Messages++
	t.mu.Unlock()
	_ = t.Out.Write(&Record{K: KindTap, Src: TapSrc, T: now, Size: len(raw), Body: body})
}

func (t *Tap) bad(now int64, size int, msg string) {
	t.mu.Lock()
	t.stats.Errors++
	t.stats.LastError = msg
	t.mu.Unlock()
	_ = t.Out.Write(&Record{K: KindTap, Src: TapSrc, T: now, Size: size, Err: msg})
}

func (t *Tap) fail(msg string) { t.bad(t.Clock.Now(), 0, msg) }

// maxMsgpackDepth bounds nesting in MsgpackJSON.
const maxMsgpackDepth = 64

// MsgpackJSON converts one msgpack value to compact JSON, keeping the order
// of map members, leaving out the top-level map members named in drop.
// Binary strings become JSON strings when they are UTF-8, base64 strings
// otherwise; map keys that are not strings are written as JSON strings.
func MsgpackJSON(raw []byte, drop ...string) (json.RawMessage, error) {
	dec := msgpack.NewDecoder(bytes.NewReader(raw))
	out, err := appendMsgpack(nil, dec, 0, drop)
	if err != nil {
		return nil, err
	}
	if _, err := dec.PeekCode(); err == nil {
		return nil, errors.New("trailing bytes after the message")
	}
	return out, nil
}

func appendMsgpack(dst []byte, dec *msgpack.Decoder, depth int, drop []string) ([]byte, error) {
	if depth > maxMsgpackDepth {
		return nil, errors.New("nested too deeply")
	}
	code, err := dec.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case msgpcode.IsFixedMap(code) || code == msgpcode.Map16 || code == msgpcode.Map32:
		n, err := dec.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		dst = append(dst, '{')
		first := true
	members:
		for i := 0; i < n; i++ {
			k, err := dec.DecodeInterfaceLoose()
			if err != nil {
				return nil, err
			}
			ks := keyString(k)
			for _, d := range drop {
				if ks == d {
					if err := dec.Skip(); err != nil {
						return nil, err
					}
					continue members
				}
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = jsonw.AppendString(dst, ks)
			dst = append(dst, ':')
			if dst, err = appendMsgpack(dst, dec, depth+1, nil); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case msgpcode.IsFixedArray(code) || code == msgpcode.Array16 || code == msgpcode.Array32:
		n, err := dec.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		dst = append(dst, '[')
		for i := 0; i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendMsgpack(dst, dec, depth+1, nil); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	}
	if msgpcode.IsBin(code) {
		b, err := dec.DecodeBytes()
		if err != nil {
			return nil, err
		}
		if utf8.Valid(b) {
			return jsonw.AppendString(dst, string(b)), nil
		}
		j, _ := json.Marshal(b) // base64
		return append(dst, j...), nil
	}
	v, err := dec.DecodeInterfaceLoose()
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), nil
	case float64:
		return jsonw.AppendFloat(dst, v), nil
	case float32:
		return jsonw.AppendFloat(dst, float64(v)), nil
	case string:
		return jsonw.AppendString(dst, v), nil
	case time.Time:
		return jsonw.AppendString(dst, v.UTC().Format(time.RFC3339Nano)), nil
	}
	return nil, fmt.Errorf("msgpack value of type %T has no JSON form", v)
}

func keyString(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case []byte:
		return string(k)
	}
	return fmt.Sprint(k)
}
