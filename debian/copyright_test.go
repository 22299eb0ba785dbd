// Package debian holds the Debian packaging of Callbox (make deb builds it
// with scripts/deb.sh); its tests are its only Go. copyright_test.go makes
// debian/copyright, the package's machine-readable copyright file, from
// what callboxd and callboxctl link, and fails when the committed one is
// not what it would make now:
//
//	go test ./debian -run TestCopyrightIsCurrent -update
package debian

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite debian/copyright from the Go modules the binaries link")

// The packaged programs, and the architectures they are built for.
var (
	programs      = []string{"./cmd/callboxd", "./cmd/callboxctl"}
	architectures = []string{"amd64", "arm64"}
)

func TestCopyrightIsCurrent(t *testing.T) {
	mods, err := linkedModules()
	if err != nil {
		t.Fatal(err)
	}
	goroot, err := goEnv("GOROOT")
	if err != nil {
		t.Fatal(err)
	}
	npm, err := bundledNpmPackages()
	if err != nil {
		t.Fatal(err)
	}
	want, err := copyrightFile(mods, npm, goroot)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("copyright", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("copyright")
	if err != nil {
		t.Fatalf("%v: go test ./debian -run TestCopyrightIsCurrent -update writes it", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("debian/copyright is not what callboxd and callboxctl link now (%s); go test ./debian -run TestCopyrightIsCurrent -update rewrites it",
			firstDifference(got, want))
	}
}

// A module's licence is told by the words of its licence file, and a file
// with words of no licence known here is an error, never a guess.
func TestLicenceNames(t *testing.T) {
	for _, tc := range []struct {
		text string
		want string
	}{
		{"Permission is hereby granted, free of charge, to any person", "Expat"},
		{"Redistribution and use in source and binary forms ... Neither the name of Google Inc. nor", "BSD-3-clause"},
		{"Redistribution and use in source and binary forms, with or without\nmodification", "BSD-2-clause"},
		{"                                 Apache License\n                           Version 2.0, January 2004", "Apache-2.0"},
		{"Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee", "ISC"},
		{"Mozilla Public License Version 2.0", "MPL-2.0"},
		{"covered by two licenses: MIT and Apache.\nPermission is hereby granted, free of charge\nApache License\nVersion 2.0, January 2004", "Apache-2.0 and Expat"},
	} {
		got, err := licenceNames(tc.text)
		if err != nil || got != tc.want {
			t.Errorf("licenceNames(%.40q) = %q, %v; want %q", tc.text, got, err, tc.want)
		}
	}
	if got, err := licenceNames("All rights reserved. Do not copy."); err == nil {
		t.Errorf("a text with no known licence was named %q", got)
	}
}

// module is one Go module linked into the binaries.
type module struct{ Path, Dir string }

// linkedModules lists the modules whose packages the programs link, on
// every architecture the package is built for (with cgo, as make builds
// them), the main module left out.
func linkedModules() ([]module, error) {
	seen := map[string]module{}
	for _, arch := range architectures {
		cmd := exec.Command("go", append([]string{"list", "-deps", "-tags=dynamic",
			"-f", "{{with .Module}}{{if not .Main}}{{.Path}}\t{{.Dir}}{{end}}{{end}}"}, programs...)...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=1", "GOFLAGS=-mod=mod")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go list for %s: %w: %s", arch, err, stderr.Bytes())
		}
		for line := range strings.Lines(string(out)) {
			path, dir, ok := strings.Cut(strings.TrimSpace(line), "\t")
			if !ok {
				continue
			}
			if dir == "" {
				return nil, fmt.Errorf("module %s is not in the module cache (go mod download)", path)
			}
			seen[path] = module{Path: path, Dir: dir}
		}
	}
	mods := make([]module, 0, len(seen))
	for _, m := range seen {
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b module) int { return strings.Compare(a.Path, b.Path) })
	return mods, nil
}

func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	return strings.TrimSpace(string(out)), err
}

// Licences that Debian keeps in /usr/share/common-licenses: the file names
// them and does not repeat their text.
var commonLicences = map[string]string{
	"Apache-2.0": "Apache-2.0",
	"MPL-2.0":    "MPL-2.0",
	"LGPL-2.1+":  "LGPL-2.1",
	"GPL-3+":     "GPL-3",
}

// licenceNames tells the licences in a licence file by their words, in
// DEP-5's short names ("Expat" is the MIT licence), joined with " and "
// when a file holds several (parts of the module under each).
func licenceNames(text string) (string, error) {
	flat := strings.Join(strings.Fields(text), " ")
	has := func(s string) bool { return strings.Contains(strings.ToLower(flat), strings.ToLower(s)) }
	var names []string
	if has("Apache License") && (has("Version 2.0") || has("LICENSE-2.0")) {
		names = append(names, "Apache-2.0")
	}
	if has("Redistribution and use in source and binary forms") {
		if has("Neither the name") || has("names of its contributors") || has("name of the copyright holder nor") {
			names = append(names, "BSD-3-clause")
		} else {
			names = append(names, "BSD-2-clause")
		}
	}
	if has("Permission is hereby granted, free of charge") {
		names = append(names, "Expat")
	}
	if has("Permission to use, copy, modify, and/or distribute this software for any purpose") ||
		has("Permission to use, copy, modify, and distribute this software for any purpose with or without fee") {
		names = append(names, "ISC")
	}
	if has("Mozilla Public License") && has("2.0") {
		names = append(names, "MPL-2.0")
	}
	if len(names) == 0 {
		return "", errors.New("no licence known to debian/copyright_test.go in it: add its words to licenceNames")
	}
	return strings.Join(names, " and "), nil
}

// licenceFiles are a module's licence texts: LICENSE, COPYING and their
// kin at its root (not the LICENSES/ folder of REUSE, which repeats them).
func licenceFiles(dir string) (licences, notices []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := strings.ToUpper(e.Name())
		if e.IsDir() || strings.HasSuffix(name, ".GO") {
			continue
		}
		base := strings.TrimSuffix(strings.TrimSuffix(name, ".TXT"), ".MD")
		switch {
		case base == "LICENSE", base == "LICENCE", base == "COPYING", base == "UNLICENSE",
			strings.HasPrefix(base, "LICENSE-"): // loglevel's LICENSE-MIT
			licences = append(licences, filepath.Join(dir, e.Name()))
		case base == "NOTICE":
			notices = append(notices, filepath.Join(dir, e.Name()))
		}
	}
	if len(licences) == 0 {
		return nil, nil, fmt.Errorf("%s: no LICENSE or COPYING file", dir)
	}
	return licences, notices, nil
}

// copyrightLine is a line that states a copyright ("Copyright (c) 2019
// Klaus Post"), not one that speaks of copyright ("the above copyright
// notice") or a template ("Copyright [yyyy] [name of copyright owner]").
var copyrightLine = regexp.MustCompile(`(?i)^\s*copyright\s*(\(c\)|©|[0-9]{4})`)

func copyrightsIn(texts ...string) []string {
	var lines []string
	for _, text := range texts {
		sc := bufio.NewScanner(strings.NewReader(text))
		for sc.Scan() {
			l := strings.Join(strings.Fields(sc.Text()), " ")
			if copyrightLine.MatchString(l) && !strings.ContainsAny(l, "[]{}") && !slices.Contains(lines, l) {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// withoutApacheText replaces the Apache License 2.0's own text (its terms
// and the appendix after them) in a licence file that holds others too
// with a pointer to Debian's copy, which a copyright file must use.
func withoutApacheText(text string) string {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.Contains(lines[i], "Apache License") || !slices.ContainsFunc(lines[i+1:min(i+3, len(lines))],
			func(l string) bool { return strings.Contains(l, "Version 2.0, January 2004") }) {
			continue
		}
		end := slices.IndexFunc(lines[i:], func(l string) bool { return strings.Contains(l, "END OF TERMS AND CONDITIONS") })
		if end < 0 {
			continue
		}
		end += i
		if a := slices.IndexFunc(lines[end:min(end+4, len(lines))], func(l string) bool { return strings.Contains(l, "APPENDIX") }); a >= 0 {
			if last := slices.IndexFunc(lines[end:], func(l string) bool { return strings.Contains(l, "limitations under the License.") }); last >= 0 {
				end += last
			}
		}
		lines = slices.Replace(lines, i, end+1, "[The Apache License, Version 2.0: on Debian systems in /usr/share/common-licenses/Apache-2.0.]")
	}
	return strings.Join(lines, "\n")
}

// partParagraph is the paragraph of one part linked into the programs:
// its licence named from its licence texts, its copyright lines taken from
// them and its notices.
func partParagraph(part string, texts, notices []string) (paragraph, error) {
	text := strings.Join(texts, "\n")
	name, err := licenceNames(text)
	if err != nil {
		return paragraph{}, err
	}
	p := paragraph{files: []string{part + "/*"}, licence: name, copyright: copyrightsIn(append(texts, notices...)...)}
	if len(p.copyright) == 0 {
		p.copyright = []string{"The authors of " + part}
	}
	if _, common := commonLicences[name]; !common {
		p.text = withoutApacheText(text)
	}
	return p, nil
}

func readAll(files []string) ([]string, error) {
	texts := make([]string, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		texts[i] = string(b)
	}
	return texts, nil
}

// npmPackage is one npm package whose code is in the guest page's scripts,
// as web/guest/build.mjs lists them in bundled-packages.json: its version
// as bundled, and which of its files.
type npmPackage struct {
	Name, Version string
	Files         []string
}

const guestDir = "../web/guest"

func bundledNpmPackages() ([]npmPackage, error) {
	b, err := os.ReadFile(filepath.Join(guestDir, "bundled-packages.json"))
	if err != nil {
		return nil, fmt.Errorf("%w (make web writes it)", err)
	}
	var pkgs []npmPackage
	if err := json.Unmarshal(b, &pkgs); err != nil {
		return nil, fmt.Errorf("web/guest/bundled-packages.json: %w", err)
	}
	return pkgs, nil
}

// licenceTexts are the package's licence files as npm installed it (make
// web), or, for a package that ships none, the licence comments that head
// its bundled files.
func (p npmPackage) licenceTexts() ([]string, error) {
	dir := filepath.Join(guestDir, "node_modules", p.Name)
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("%w (make web installs it)", err)
	}
	if licences, _, err := licenceFiles(dir); err == nil {
		return readAll(licences)
	}
	var texts []string
	for _, f := range p.Files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue // a file of the bundled version that the installed one lacks
		}
		if head := leadingComment(string(b)); !slices.Contains(texts, head) {
			if _, err := licenceNames(head); err == nil {
				texts = append(texts, head)
			}
		}
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("%s: no licence file, and no licence at the head of its bundled files", dir)
	}
	return texts, nil
}

// leadingComment is the text of the // lines a source file starts with.
func leadingComment(src string) string {
	var b strings.Builder
	for line := range strings.Lines(src) {
		text, ok := strings.CutPrefix(strings.TrimSpace(line), "//")
		if !ok {
			break
		}
		b.WriteString(strings.TrimPrefix(text, " ") + "\n")
	}
	return b.String()
}

// paragraph is one stanza of the DEP-5 file.
type paragraph struct {
	files, copyright []string
	licence, text    string // text: the licence's words, when Debian does not keep them
	comment          string
}

func (p paragraph) write(b *strings.Builder) {
	if len(p.files) > 0 {
		fmt.Fprintf(b, "Files: %s\n", strings.Join(p.files, " "))
	}
	if len(p.copyright) > 0 {
		fmt.Fprintf(b, "Copyright: %s\n", strings.Join(p.copyright, "\n "))
	}
	fmt.Fprintf(b, "License: %s\n", p.licence)
	writeBody(b, p.text)
	if p.comment != "" {
		b.WriteString("Comment:")
		writeBody(b, p.comment)
	}
	b.WriteString("\n")
}

// writeBody writes text as a field's continuation lines: each indented by
// a space, an empty one as " .".
func writeBody(b *strings.Builder, text string) {
	text = strings.Trim(text, "\n")
	if text == "" {
		return
	}
	for line := range strings.Lines(text) {
		line = strings.TrimRight(strings.ReplaceAll(line, "\t", "    "), " \r\n")
		if line == "" {
			line = "."
		}
		b.WriteString(" " + line + "\n")
	}
}

// copyrightFile is debian/copyright for the modules the binaries link and
// the npm packages bundled into the guest page they serve.
func copyrightFile(mods []module, npm []npmPackage, goroot string) ([]byte, error) {
	var b strings.Builder
	b.WriteString(`Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Callbox
Upstream-Contact: https://github.com/callbox/callbox/issues
Source: https://github.com/callbox/callbox
License: GPL-3+
Comment: Made by debian/copyright_test.go from the Go modules that callboxd
 and callboxctl link and the npm packages bundled into the guest page that
 callboxd serves (go test ./debian -run TestCopyrightIsCurrent -update);
 make test fails when it is out of date.
 .
 The programs as a whole are distributed under the GNU GPL, version 3 or
 later: they link x264 (the shared library of Debian's libx264-164, GPL-2+),
 and a program linked with it may be passed on only under the GPL's terms.
 Callbox's own code and many of the modules below are Apache-2.0, which
 version 2 of the GPL does not accept but version 3 does, so x264 is taken
 under its "or later" and the whole is GPL-3+. Each part keeps its own
 licence, listed below: these parts are linked into the programs. libvpx,
 Opus and speexdsp (BSD-3-clause), libjpeg-turbo's TurboJPEG (BSD-3-clause,
 IJG, Zlib) and the C library are shared libraries of their own Debian
 packages, with their own copyright files.

`)
	paragraphs := []paragraph{
		{files: []string{"*"}, copyright: []string{"The Callbox authors"}, licence: "Apache-2.0",
			comment: "Callbox's own code (LICENSE in its repository)."},
		{files: []string{"ffmpeg/*"}, copyright: []string{"The FFmpeg developers"}, licence: "LGPL-2.1+",
			comment: "libavcodec with only its H.264, VP8 and Opus decoders, libswscale,\n" +
				"libswresample and libavutil, linked statically: built by Callbox's\n" +
				"scripts/ffmpeg-lean.sh from the source of Debian's ffmpeg (the version\n" +
				"this package's Built-Using names), without any of its GPL parts."},
	}
	goLicence, err := os.ReadFile(filepath.Join(goroot, "LICENSE"))
	if err != nil {
		return nil, fmt.Errorf("the Go distribution's licence: %w", err)
	}
	goName, err := licenceNames(string(goLicence))
	if err != nil {
		return nil, fmt.Errorf("%s/LICENSE: %w", goroot, err)
	}
	paragraphs = append(paragraphs, paragraph{files: []string{"go/*"}, copyright: copyrightsIn(string(goLicence)),
		licence: goName, text: string(goLicence), comment: "Go's runtime and standard library, linked into every Go program."})

	for _, m := range mods {
		licences, notices, err := licenceFiles(m.Dir)
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", m.Path, err)
		}
		texts, err := readAll(licences)
		if err != nil {
			return nil, err
		}
		noticeTexts, err := readAll(notices)
		if err != nil {
			return nil, err
		}
		p, err := partParagraph(m.Path, texts, noticeTexts)
		if err != nil {
			return nil, fmt.Errorf("module %s (%s): %w", m.Path, strings.Join(licences, ", "), err)
		}
		paragraphs = append(paragraphs, p)
	}

	for _, pkg := range npm {
		texts, err := pkg.licenceTexts()
		if err != nil {
			return nil, fmt.Errorf("npm package %s: %w", pkg.Name, err)
		}
		p, err := partParagraph("npm/"+pkg.Name, texts, nil)
		if err != nil {
			return nil, fmt.Errorf("npm package %s: %w", pkg.Name, err)
		}
		p.comment = fmt.Sprintf("%s %s, bundled into the guest page's scripts, which callboxd\nserves (web/guest/build.mjs).", pkg.Name, pkg.Version)
		paragraphs = append(paragraphs, p)
	}

	// The licences Debian keeps, each named once where it is used.
	used := map[string]bool{"GPL-3+": true}
	for _, p := range paragraphs {
		p.write(&b)
		if p.text == "" {
			used[p.licence] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(commonLicences)) {
		if !used[name] {
			continue
		}
		paragraph{licence: name, text: "On Debian systems the full text of this licence is in\n/usr/share/common-licenses/" + commonLicences[name] + "."}.write(&b)
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

// firstDifference says where two files part, for the test's message.
func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d is %q, would be %q", i+1, gl, wl)
		}
	}
	return "same lines"
}
