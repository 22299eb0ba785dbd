package provisioning

// JSON in and out: every API answer is JSON, every error an apiError that
// says what is wrong (by form field where there is one), and every request
// body is read by decodeJSON, strictly.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxBodyBytes bounds every request body.
const maxBodyBytes = 16 << 10

type apiError struct {
	Error  string       `json:"error"`
	Fields []fieldError `json:"fields,omitempty"`
}

type fieldError struct {
	Field  string `json:"field"` // the form's field: url, room, camera...
	Reason string `json:"reason"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// Our own types always encode; a client that went away has no one to tell.
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// requestError is a bad request body, with the status it deserves.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

// decodeJSON reads one JSON object of at most maxBodyBytes into dst,
// refusing unknown fields, wrong types and trailing data.
func decodeJSON(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return &requestError{http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)"}
	}
	return decodeBody(io.LimitReader(r.Body, maxBodyBytes+1), dst)
}

// decodeBody is decodeJSON without HTTP, for the fuzzer.
func decodeBody(body io.Reader, dst any) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return &requestError{http.StatusBadRequest, "cannot read the request"}
	}
	if len(data) > maxBodyBytes {
		return &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is larger than %d bytes", maxBodyBytes)}
	}
	if !utf8.Valid(data) { // encoding/json would put U+FFFD in its place, silently
		return &requestError{http.StatusBadRequest, "the request is not valid UTF-8 text"}
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field == "":
			return &requestError{http.StatusBadRequest, "the request is not a JSON object of the expected form"}
		case errors.As(err, &typeErr):
			return &requestError{http.StatusBadRequest, fmt.Sprintf("%s must be a %s", typeErr.Field, typeErr.Type)}
		case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return &requestError{http.StatusBadRequest, "the request is not valid JSON"}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return &requestError{http.StatusBadRequest, strings.TrimPrefix(err.Error(), "json: ") + " is not a setting"}
		default:
			return &requestError{http.StatusBadRequest, "the request is not a JSON object of the expected form"}
		}
	}
	if dec.More() {
		return &requestError{http.StatusBadRequest, "the request has data after the JSON object"}
	}
	return nil
}

func writeRequestError(w http.ResponseWriter, err error) {
	var re *requestError
	if errors.As(err, &re) {
		writeError(w, re.status, re.msg)
		return
	}
	writeError(w, http.StatusBadRequest, "bad request")
}

func writeFieldErrors(w http.ResponseWriter, bad []fieldError) {
	writeJSON(w, http.StatusBadRequest, apiError{Error: "some settings are not right", Fields: bad})
}
