module github.com/sessionkit/sessionkit/sessions

go 1.24
