package main

// The sink's SMTP listener: a recording stand-in for the mail relay
// Alertmanager's email receiver talks to. It says no where a real relay
// would: no login before STARTTLS (530), a wrong password (535), no mail
// before a login (530). A mail it accepts is recorded, decoded (subject,
// text and HTML parts), on the sink's recordings API as kind "email",
// path "/smtp".

import (
	"bufio"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// SMTPPath is the path mails are recorded under.
const SMTPPath = "/smtp"

// maxLine bounds a command line; maxMessage bounds a mail (a notification is a few KB).
const (
	maxLine    = 4096
	maxMessage = 1 << 20
)

type smtpServer struct {
	ln         net.Listener
	tls        *tls.Config
	user, pass string
	rec        *recorder
	wg         sync.WaitGroup
}

// startSMTP listens on addr; a client must STARTTLS (cert required) and log in as user/pass.
func startSMTP(addr string, tlsConf *tls.Config, user, pass string, rec *recorder) (*smtpServer, error) {
	if tlsConf == nil {
		return nil, fmt.Errorf("the SMTP listener needs --tls-cert and --tls-key (STARTTLS)")
	}
	if user == "" || pass == "" {
		return nil, fmt.Errorf("the SMTP listener needs --smtp-user and --smtp-password")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &smtpServer{ln: ln, tls: tlsConf, user: user, pass: pass, rec: rec}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				s.session(conn)
			}()
		}
	}()
	return s, nil
}

func (s *smtpServer) address() string { return s.ln.Addr().String() }

func (s *smtpServer) stop() {
	s.ln.Close()
	s.wg.Wait()
}

// session speaks SMTP with one client until QUIT, an error or a minute of silence.
func (s *smtpServer) session(conn net.Conn) {
	r := bufio.NewReaderSize(conn, maxLine)
	reply := func(line string) { fmt.Fprintf(conn, "%s\r\n", line) }
	readLine := func() (string, bool) {
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := r.ReadString('\n')
		if err != nil || len(line) > maxLine {
			return "", false
		}
		return strings.TrimRight(line, "\r\n"), true
	}
	var (
		secure        bool
		authenticated string
		from          string
		to            []string
	)
	reply("220 notification-sink ESMTP protocol-sim")
	for {
		line, ok := readLine()
		if !ok {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"250-notification-sink", "250-8BITMIME", fmt.Sprintf("250-SIZE %d", maxMessage)}
			if secure {
				lines = append(lines, "250-AUTH PLAIN LOGIN")
			} else {
				lines = append(lines, "250-STARTTLS")
			}
			lines[len(lines)-1] = "250 " + lines[len(lines)-1][4:]
			for _, l := range lines {
				reply(l)
			}
		case "HELO":
			reply("250 notification-sink")
		case "STARTTLS":
			if secure {
				reply("503 5.5.1 TLS already active")
				continue
			}
			reply("220 2.0.0 Ready to start TLS")
			tlsConn := tls.Server(conn, s.tls)
			if err := tlsConn.Handshake(); err != nil {
				return
			}
			conn, r, secure = tlsConn, bufio.NewReaderSize(tlsConn, maxLine), true
			authenticated, from, to = "", "", nil
		case "AUTH":
			if !secure {
				reply("530 5.7.0 Must issue a STARTTLS command first")
				continue
			}
			user, pass, ok := s.credentials(arg, reply, readLine)
			if !ok {
				reply("501 5.5.2 Cannot decode the response")
				continue
			}
			if !s.valid(user, pass) {
				reply("535 5.7.8 Authentication credentials invalid")
				continue
			}
			authenticated = user
			reply("235 2.7.0 Authentication successful")
		case "MAIL":
			switch {
			case !secure:
				reply("530 5.7.0 Must issue a STARTTLS command first")
			case authenticated == "":
				reply("530 5.7.0 Authentication required")
			default:
				from, to = address(arg, "FROM:"), nil
				reply("250 2.1.0 Ok")
			}
		case "RCPT":
			if from == "" {
				reply("503 5.5.1 Need MAIL first")
				continue
			}
			to = append(to, address(arg, "TO:"))
			reply("250 2.1.5 Ok")
		case "DATA":
			if len(to) == 0 {
				reply("503 5.5.1 Need RCPT first")
				continue
			}
			reply("354 End data with <CR><LF>.<CR><LF>")
			message, ok := readData(readLine)
			if !ok {
				reply("552 5.3.4 Message too big")
				return
			}
			s.record(authenticated, from, to, message)
			reply("250 2.0.0 Ok: queued")
			from, to = "", nil
		case "RSET":
			from, to = "", nil
			reply("250 2.0.0 Ok")
		case "NOOP":
			reply("250 2.0.0 Ok")
		case "QUIT":
			reply("221 2.0.0 Bye")
			return
		default:
			reply("502 5.5.2 Command not recognized")
		}
	}
}

// credentials reads AUTH PLAIN (initial response or on request) or AUTH LOGIN.
func (s *smtpServer) credentials(arg string, reply func(string), readLine func() (string, bool)) (string, string, bool) {
	mechanism, initial, _ := strings.Cut(arg, " ")
	decode := func(b64 string) (string, bool) {
		raw, err := base64.StdEncoding.DecodeString(b64)
		return string(raw), err == nil
	}
	ask := func(prompt string) (string, bool) {
		reply("334 " + prompt)
		line, ok := readLine()
		if !ok {
			return "", false
		}
		return decode(line)
	}
	switch strings.ToUpper(mechanism) {
	case "PLAIN":
		var response string
		var ok bool
		if initial != "" {
			response, ok = decode(initial)
		} else {
			response, ok = ask("")
		}
		parts := strings.Split(response, "\x00")
		if !ok || len(parts) != 3 {
			return "", "", false
		}
		return parts[1], parts[2], true
	case "LOGIN":
		user, ok := ask(base64.StdEncoding.EncodeToString([]byte("Username:")))
		if !ok {
			return "", "", false
		}
		pass, ok := ask(base64.StdEncoding.EncodeToString([]byte("Password:")))
		return user, pass, ok
	}
	return "", "", false
}

func (s *smtpServer) valid(user, pass string) bool {
	return subtle.ConstantTimeCompare([]byte(user), []byte(s.user)) == 1 && subtle.ConstantTimeCompare([]byte(pass), []byte(s.pass)) == 1
}

// address takes the mailbox out of "FROM:<a@b> SIZE=1" or "TO:<a@b>".
func address(arg, prefix string) string {
	arg = strings.TrimSpace(arg)
	if len(arg) >= len(prefix) && strings.EqualFold(arg[:len(prefix)], prefix) {
		arg = arg[len(prefix):]
	}
	arg, _, _ = strings.Cut(strings.TrimSpace(arg), " ")
	return strings.Trim(arg, "<>")
}

// readData reads the message up to the lone ".", undoing dot-stuffing.
func readData(readLine func() (string, bool)) (string, bool) {
	var b strings.Builder
	for {
		line, ok := readLine()
		if !ok {
			return "", false
		}
		if line == "." {
			return b.String(), true
		}
		line = strings.TrimPrefix(line, ".")
		if b.Len()+len(line) > maxMessage {
			return "", false
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
}

// Mail is what the sink records of one message.
type Mail struct {
	Auth    string   `json:"auth"`
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text,omitempty"`
	HTML    string   `json:"html,omitempty"`
}

func (s *smtpServer) record(user, from string, to []string, message string) {
	m := Mail{Auth: user, From: from, To: to}
	entry := Recorded{Time: s.rec.now().UTC(), Method: "SMTP", Path: SMTPPath, TLS: true, Kind: "email", Status: 250, Body: message}
	if parsed, err := mail.ReadMessage(strings.NewReader(message)); err == nil {
		entry.Headers = map[string][]string(parsed.Header)
		m.Subject, _ = new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
		m.Text, m.HTML = bodies(parsed.Header.Get("Content-Type"), parsed.Body)
	}
	entry.JSON, _ = json.Marshal(m)
	s.rec.add(entry)
	s.rec.log.Log("info", "notification-sink", "protocol_sim.sink", "mail_recorded", kv{"from", from}, kv{"to", strings.Join(to, ",")}, kv{"subject", m.Subject})
}

// bodies returns the decoded text and HTML of a message (multipart/alternative, or a single part).
func bodies(contentType string, body io.Reader) (text, html string) {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(media, "multipart/") {
		raw, _ := io.ReadAll(io.LimitReader(body, maxMessage))
		if media == "text/html" {
			return "", string(raw)
		}
		return string(raw), ""
	}
	parts := multipart.NewReader(body, params["boundary"])
	for {
		part, err := parts.NextPart() // decodes quoted-printable itself
		if err != nil {
			return text, html
		}
		raw, _ := io.ReadAll(io.LimitReader(part, maxMessage))
		partType, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch partType {
		case "text/plain":
			text = string(raw)
		case "text/html":
			html = string(raw)
		}
	}
}
