package dashboard

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTemplatesParse parses every page's template, as the first page the dashboard renders
// does (New leaves it to then): a broken template fails here rather than on a user's page.
func TestTemplatesParse(t *testing.T) {
	t.Parallel()
	pages, err := parsePages()
	require.NoError(t, err)
	files, err := fs.Glob(templateFiles, "templates/*.html")
	require.NoError(t, err)
	require.Len(t, pages, len(files)-1, "one page for each template but the layout")
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(file, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		page := pages[name]
		require.NotNil(t, page, name)
		require.NotNil(t, page.Lookup("layout"), name)
		require.NotNil(t, page.Lookup("content"), "%s defines no content", name)
	}
}
