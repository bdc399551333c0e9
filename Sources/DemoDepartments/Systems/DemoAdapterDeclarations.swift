/// The adapter declarations that connect a hub to the running demo systems: the four pull
/// adapters (police http-json, social security soap-xml, three civil affairs csv-drop folders)
/// and the health push adapter, as `adapters/*.json5` files, plus the secret files they name.
public enum DemoAdapterDeclarations {
    /// File name -> contents, to write into the demo hub's adapters folder. Secrets are written
    /// to their own files (`*.token`) and referenced, never inlined. `healthTokenFile` is the
    /// file (relative to the adapters folder) holding health's push token.
    public static func files(_ endpoints: DemoDepartmentEndpoints, every: String = "10s",
                             healthTokenFile: String = "health-records.token") -> [(name: String, contents: String)] {
        var out: [(String, String)] = []
        let policeAuth: String
        if let token = endpoints.policeToken {
            out.append(("police-api.token", token + "\n"))
            policeAuth = "\n    auth: { bearer: { file: \"police-api.token\" } },"
        } else {
            policeAuth = ""
        }
        out.append(("police-hukou.json5", """
            // 公安人口户籍系统 (demo): the police register's REST API, pulled page by page.
            {
              id: "police-hukou",
              department: "police",
              mapping: "police-hukou.json5",
              description: "公安人口户籍系统 (police household register, demo)",
              pull: {
                kind: "http-json",
                every: "\(every)",
                url: "\(endpoints.policePersonsURL)?updated_since={checkpoint}&cursor={cursor}&page_size={pageSize}",
                records: "data.items",
                checkpointField: "GXSJ",
                initialCheckpoint: "2000-01-01T00:00:00.000+08:00",
                pageSize: 500,
                pagination: { style: "cursor", cursorPath: "data.next_cursor" },\(policeAuth)
                timeout: 30,
              },
            }

            """))
        out.append(("social-security.json5", """
            // 社会保险信息系统 (demo): the SOAP service, queried for rows changed since the checkpoint.
            {
              id: "social-security",
              department: "social-security",
              mapping: "social-security.json5",
              description: "社会保险信息系统 (social insurance, SOAP, demo)",
              pull: {
                kind: "soap-xml",
                every: "\(every)",
                url: "\(endpoints.socialSecurityURL)",
                action: "queryPersonInsurance",
                envelope: '\(SocialSecurityService.requestTemplate)',
                namespaces: { si: "\(SocialSecurityService.namespace)" },
                records: "//si:AC01",
                checkpointField: "si:AAE036",
                more: "//si:hasMore = 'true'",
                pageSize: 500,
                initialCheckpoint: "0",
              },
            }

            """))
        for register in CivilAffairsDrop.registers {
            let id = register.adapterID
            out.append(("\(id).json5", """
                // 民政 (demo): GB18030 CSV files dropped into a folder.
                {
                  id: "\(id)",
                  department: "civil-affairs",
                  mapping: "\(id).json5",
                  description: "民政 \(id) (GB18030 CSV drop, demo)",
                  pull: {
                    kind: "csv-drop",
                    every: "\(every)",
                    folder: "\(endpoints.dropFolders[id] ?? "")",
                    pattern: "*.csv",
                    encoding: "detect",
                    mappingEncoding: "gb18030",
                    complete: "marker",
                  },
                }

                """))
        }
        out.append(("health-records.json5", """
            // 居民健康档案系统 (demo): pushes JSON to POST /v1/ingest/health-records.
            {
              id: "health-records",
              department: "health",
              mapping: "health-records.json5",
              token: { file: "\(healthTokenFile)" },
              description: "居民健康档案系统 (resident health records, pushes JSON, demo)",
            }

            """))
        return out
    }
}
