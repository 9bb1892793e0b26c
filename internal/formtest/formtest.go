// Package formtest holds test helpers for service templates: the 2024
// template change as an edit of today's shipped file.
package formtest

import "strings"

// Replay2024 is the 2024 template change as an operator would make it
// today on the corporate tax certificate: the 법인명 slot takes the
// representative's name (class name, which the file allows) and the
// 사업자등록번호 slot a new representative_rrn (class rrn, added to the
// file's own allowed_classes). Every edit passes the agencies' schema: the
// fields exist and are declared with their true class. Only the service's
// schema refuses it.
func Replay2024(original []byte) []byte {
	s := string(original)
	s = strings.Replace(s, `"source": "tax.corporation.company_name", "class": "company_name"`, `"source": "tax.corporation.representative_name", "class": "name"`, 1)
	s = strings.Replace(s, `"source": "tax.corporation.business_number", "class": "business_number"`, `"source": "tax.corporation.representative_rrn", "class": "rrn"`, 1)
	s = strings.Replace(s, `"allowed_classes": [`, `"allowed_classes": ["rrn", `, 1)
	return []byte(s)
}
