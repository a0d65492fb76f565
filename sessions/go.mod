module github.com/sessionkit/sessionkit/sessions

go 1.26.0
