package dashboard

import (
	"embed"
	"fmt"
	"html/template"
)

//go:embed templates/*.html templates/style.css
var templateFS embed.FS

// pages are the dashboard page templates; each defines "content".
var pages = []string{"overview", "measurements", "measurement", "surrogates", "codesign"}

// templates holds one parsed set per dashboard page plus the report.
type templates struct {
	pages  map[string]*template.Template
	report *template.Template
	css    template.CSS
}

func parseTemplates() (*templates, error) {
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, fmt.Errorf("read embedded style sheet: %w", err)
	}
	funcs := template.FuncMap{
		"shortID": shortID,
		"layerTable": func(caption string, rows []layerRow) any {
			return struct {
				Caption string
				Layers  []layerRow
			}{caption, rows}
		},
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("parse dashboard partials: %w", err)
	}

	t := &templates{pages: make(map[string]*template.Template), css: template.CSS(css)}
	for _, name := range pages {
		set, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse dashboard page %s: %w", name, err)
		}
		t.pages[name] = set
	}
	t.report, err = template.Must(base.Clone()).ParseFS(templateFS, "templates/report.html")
	if err != nil {
		return nil, fmt.Errorf("parse report template: %w", err)
	}
	return t, nil
}
