package logstash

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

// ---- GELF over UDP (https://go2docs.graylog.org/current/getting_in_log_data/gelf.html)

const (
	gelfMaxChunks  = 128
	gelfChunkTTL   = 5 * time.Second
	gelfMaxPending = 1000
	gelfMaxMessage = 8 << 20
)

type gelfPending struct {
	parts [][]byte
	got   int
	first time.Time
}

// gelfAssembler reassembles chunked GELF messages (one reader goroutine).
type gelfAssembler struct{ pending map[string]*gelfPending }

// add takes one datagram and returns a complete (possibly compressed)
// message, or nil while chunks are missing.
func (a *gelfAssembler) add(pkt []byte, now time.Time) ([]byte, error) {
	if len(pkt) < 2 || pkt[0] != 0x1e || pkt[1] != 0x0f {
		return pkt, nil
	}
	if len(pkt) < 12 {
		return nil, errors.New("chunk shorter than its 12-byte header")
	}
	id, seq, count := string(pkt[2:10]), int(pkt[10]), int(pkt[11])
	if count < 1 || count > gelfMaxChunks || seq >= count {
		return nil, fmt.Errorf("chunk %d of %d: invalid sequence (at most %d chunks)", seq, count, gelfMaxChunks)
	}
	for k, p := range a.pending {
		if now.Sub(p.first) > gelfChunkTTL {
			delete(a.pending, k) // incomplete after 5 s: discarded, as the spec says
		}
	}
	p := a.pending[id]
	if p == nil {
		if len(a.pending) >= gelfMaxPending {
			return nil, errors.New("too many incomplete chunked messages")
		}
		p = &gelfPending{parts: make([][]byte, count), first: now}
		a.pending[id] = p
	}
	if len(p.parts) != count {
		return nil, errors.New("chunks of one message disagree on their count")
	}
	if p.parts[seq] == nil {
		p.parts[seq] = append([]byte(nil), pkt[12:]...)
		p.got++
	}
	if p.got < count {
		return nil, nil
	}
	delete(a.pending, id)
	return bytes.Join(p.parts, nil), nil
}

// gelfDecompress undoes GZIP or ZLIB compression, recognized by magic bytes.
func gelfDecompress(b []byte) ([]byte, error) {
	var rd io.ReadCloser
	var err error
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		rd, err = gzip.NewReader(bytes.NewReader(b))
	case len(b) >= 2 && b[0] == 0x78 && (int(b[0])<<8|int(b[1]))%31 == 0:
		rd, err = zlib.NewReader(bytes.NewReader(b))
	default:
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	out, err := io.ReadAll(io.LimitReader(rd, gelfMaxMessage+1))
	if err != nil {
		return nil, err
	}
	if len(out) > gelfMaxMessage {
		return nil, errors.New("decompressed message too large")
	}
	return out, nil
}

// gelfEvent turns a GELF message into an event as the gelf input does:
// source_host is the sender, a numeric timestamp becomes @timestamp,
// full_message or short_message becomes message (remap), _field → field.
func gelfEvent(msg []byte, from string, remap, strip bool) *lsEvent {
	var fields map[string]any
	if err := shared.DecodeJSON(msg, &fields); err != nil || fields == nil {
		ev := newLSEvent(map[string]any{"message": string(msg)})
		ev.addTag("_jsonparsefailure")
		ev.fields["source_host"] = from
		return ev
	}
	var ts *time.Time
	if n, ok := fields["timestamp"].(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			sec, frac := math.Modf(f)
			t := time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
			ts = &t
			delete(fields, "timestamp")
		}
	}
	ev := newLSEvent(fields)
	if ts != nil {
		ev.ts = *ts
	}
	ev.fields["source_host"] = from
	if remap {
		full, _ := ev.fields["full_message"].(string)
		short, _ := ev.fields["short_message"].(string)
		switch {
		case full != "":
			ev.fields["message"] = full
			delete(ev.fields, "full_message")
			if short == full {
				delete(ev.fields, "short_message")
			}
		case short != "":
			ev.fields["message"] = short
			delete(ev.fields, "short_message")
		}
	}
	if strip {
		for k, v := range ev.fields {
			if strings.HasPrefix(k, "_") && k != "_@timestamp" {
				delete(ev.fields, k)
				ev.fields[k[1:]] = v
			}
		}
	}
	return ev
}

func (l *Server) readGELF(ctx context.Context, in *lsInput, pc net.PacketConn) {
	asm := &gelfAssembler{pending: map[string]*gelfPending{}}
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				shared.Logger.Printf("logstash: gelf input: %v", err)
			}
			return
		}
		msg, err := asm.add(buf[:n], time.Now())
		if err == nil && msg != nil {
			msg, err = gelfDecompress(msg)
		}
		if err != nil {
			shared.Logger.Printf("logstash: gelf input: message from %s skipped: %v", from, err)
			continue
		}
		if msg == nil {
			continue
		}
		host := from.String()
		if ua, ok := from.(*net.UDPAddr); ok {
			host = ua.IP.String()
		}
		if !l.push(ctx, gelfEvent(msg, host, in.remap, in.strip)) {
			return
		}
	}
}
