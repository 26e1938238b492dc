package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A mail as Alertmanager sends one: multipart/alternative, quoted-printable parts, an encoded subject.
const alertMail = "From: alertmanager@example.org\r\n" +
	"To: oncall@example.org\r\n" +
	"Subject: =?UTF-8?q?[FIRING:1]_RegistryDown_(e2e)?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative;  boundary=b1\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"\r\n" +
	"*Registry A is down*\r\n" +
	"Runbook: https://runbooks.example/protocol-monitoring/stacks/protocol/runbooks/Regi=\r\n" +
	"stryDown.md\r\n" +
	"--b1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"\r\n" +
	"<p style=3D\"x\">Registry A is down</p>\r\n" +
	"--b1--\r\n"

func startTestRelay(t *testing.T) (*sinkServer, *tls.Config) {
	t.Helper()
	dir := makeTestCA(t, "localhost,127.0.0.1")
	s, err := startSink("127.0.0.1:0", "127.0.0.1:0", filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), 100, io.Discard,
		smtpOptions{"127.0.0.1:0", "alertmanager", "correct-horse"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	pem, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	return s, &tls.Config{RootCAs: roots, ServerName: "localhost"}
}

func mails(t *testing.T, s *sinkServer) []Mail {
	t.Helper()
	resp, err := http.Get("http://" + s.api.address() + "/requests?path=" + SMTPPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var recorded []Recorded
	json.NewDecoder(resp.Body).Decode(&recorded)
	out := []Mail{}
	for _, r := range recorded {
		var m Mail
		json.Unmarshal(r.JSON, &m)
		out = append(out, m)
	}
	return out
}

func TestSMTPRelayRecordsAMailAfterSTARTTLSAndLogin(t *testing.T) {
	s, tlsConf := startTestRelay(t)
	c, err := smtp.Dial(s.smtp.address())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH is offered before STARTTLS")
	}
	if err := c.StartTLS(tlsConf); err != nil {
		t.Fatal(err)
	}
	if ok, mechanisms := c.Extension("AUTH"); !ok || !strings.Contains(mechanisms, "PLAIN") {
		t.Fatalf("AUTH after STARTTLS: %v %q", ok, mechanisms)
	}
	if err := c.Auth(smtp.PlainAuth("", "alertmanager", "correct-horse", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alertmanager@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("oncall@example.org"); err != nil {
		t.Fatal(err)
	}
	w, _ := c.Data()
	io.WriteString(w, alertMail)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	got := mails(t, s)
	if len(got) != 1 {
		t.Fatalf("recorded %d mails, want 1", len(got))
	}
	m := got[0]
	if m.Auth != "alertmanager" || m.From != "alertmanager@example.org" || strings.Join(m.To, ",") != "oncall@example.org" {
		t.Errorf("envelope: %+v", m)
	}
	if m.Subject != "[FIRING:1] RegistryDown (e2e)" {
		t.Errorf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, "https://runbooks.example/protocol-monitoring/stacks/protocol/runbooks/RegistryDown.md") {
		t.Errorf("text not decoded: %q", m.Text)
	}
	if !strings.Contains(m.HTML, `<p style="x">`) {
		t.Errorf("html not decoded: %q", m.HTML)
	}
}

// Where a real relay says no, the stand-in says no: and nothing is recorded.
func TestSMTPRelayRefusesWhatARealRelayRefuses(t *testing.T) {
	s, tlsConf := startTestRelay(t)
	dial := func() *smtp.Client {
		c, err := smtp.Dial(s.smtp.address())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	expectCode := func(err error, code string, what string) {
		t.Helper()
		if err == nil || !strings.HasPrefix(err.Error(), code) {
			t.Errorf("%s: got %v, want %s", what, err, code)
		}
	}
	// In the clear: no mail, no login (Go's client itself refuses PLAIN without TLS, so the command is sent by hand).
	clear := dial()
	expectCode(clear.Mail("a@example.org"), "530", "MAIL before STARTTLS")
	id, err := clear.Text.Cmd("AUTH PLAIN AGFsZXJ0bWFuYWdlcgBjb3JyZWN0LWhvcnNl")
	if err == nil {
		clear.Text.StartResponse(id)
		_, _, err = clear.Text.ReadResponse(235)
		clear.Text.EndResponse(id)
	}
	expectCode(err, "530", "AUTH before STARTTLS")

	// Over TLS, a wrong password, and no mail before a login.
	wrong := dial()
	if err := wrong.StartTLS(tlsConf); err != nil {
		t.Fatal(err)
	}
	expectCode(wrong.Mail("a@example.org"), "530", "MAIL before AUTH")
	expectCode(wrong.Rcpt("b@example.org"), "503", "RCPT before MAIL")
	expectCode(wrong.Auth(smtp.PlainAuth("", "alertmanager", "wrong-horse", "127.0.0.1")), "535", "a wrong password")

	if got := mails(t, s); len(got) != 0 {
		t.Errorf("recorded %d mails after refusals", len(got))
	}
}

func TestSMTPRelayNeedsTLSAndALogin(t *testing.T) {
	rec := &recorder{max: 1}
	if _, err := startSMTP("127.0.0.1:0", nil, "u", "p", rec); err == nil {
		t.Error("an SMTP listener without TLS started")
	}
	if _, err := startSMTP("127.0.0.1:0", &tls.Config{}, "", "", rec); err == nil {
		t.Error("an SMTP listener without a login started")
	}
}
