// Labels: Chinese first, English by the switch in the header (kept in localStorage).
const LANG_KEY = 'recordonce.lang';

const zh = {
  title: 'RecordOnce · 一屏观全城', brand: 'RecordOnce · 一屏观全城', skip: '跳到正文', nav: '主导航', langSwitch: 'English', signOut: '退出',
  signInTitle: '管理员登录', tokenLabel: '管理员令牌', signIn: '登录',
  signInHint: '令牌在数据目录的 admin.token 文件中；只保存在本标签页（关闭即清除）。',
  signInFailed: '登录失败：{0}',
  overview: '总览', departments: '部门接入', rejects: '拒收记录', conflicts: '数据冲突', matches: '匹配审核',
  mappings: '映射', subscriptions: '订阅', records: '记录查询', audit: '审计',
  loading: '加载中…', error: '出错：{0}', notAvailable: '本中心尚未提供此功能', notAvailableMatch:
    '本中心没有匹配审核接口（身份匹配的 API 尚未实现）。待中心提供 /v1/matches 后，此页将显示记录与候选记录的逐条比对。',
  notAvailableRoute: '此中心不提供接口 {0}。',
  refreshed: '更新于 {0}', live: '实时（每 5 秒）', paused: '已暂停刷新',
  secondsAgo: '{0} 秒前', minutesAgo: '{0} 分钟前', hoursAgo: '{0} 小时前', seconds: '{0} 秒', minutes: '{0} 分钟', hours: '{0} 小时',
  resourceCounts: '资源总数', changeHead: '变更事件', openRejects: '待处理拒收', openConflicts: '待处理冲突',
  openMatches: '待审匹配', subscriptionsActive: '有效订阅', eventsPerMinute: '近一小时每分钟变更事件',
  eventsTotal: '共 {0} 条', departmentsTitle: '部门接入状态', subscriptionLag: '订阅投递进度', recordOnce: '最多录一次',
  districtView: '全区示意图', shadeBy: '着色依据', shadeResidents: '居民数', shadeChanges: '近一小时变更',
  districtAll: '全区', backToDistrict: '返回全区', community: '社区', street: '街道', residents: '居民',
  changesHour: '近一小时变更', unplaced: '未落社区',
  byField_community_code: '按现居住社区', byField_registered_division: '按户籍地', code: '区划代码',
  adapter: '接入', department: '部门', kind: '方式', state: '状态', recordsIn: '接收', accepted: '接受', rejected: '拒收',
  unchanged: '未变', lag: '距上次成功', lagShort: '距上次成功', lastError: '最近错误', checkpoint: '检查点', actions: '操作', counters: '计数',
  running: '运行中', degraded: '降级', failing: '故障', pausedState: '已暂停', push: '推送',
  pause: '暂停', resume: '恢复', runNow: '立即运行', rewind: '回退检查点', declaration: '声明',
  confirm: '确认', cancel: '取消', close: '关闭',
  confirmPause: '暂停接入 {0}？暂停后不再拉取，推送将被拒绝。', confirmResume: '恢复接入 {0}？', confirmRun: '立即运行接入 {0}？',
  rewindTo: '回退到检查点（留空则从头开始）', confirmRewind: '回退 {0} 的检查点？已入库的记录不会重复产生变更。',
  done: '已完成', nextRun: '下次运行', lastSuccess: '上次成功', mapping: '映射', mappingProblems: '映射问题',
  rule: '规则', count: '数量', examples: '示例位置', retry: '重试', retryAll: '全部重试', problems: '问题', position: '位置',
  field: '字段', message: '说明', severity: '级别', sourceKey: '来源键', created: '时间',
  retried: '已重试 {0} 条：接受 {1}，仍拒收 {2}', confirmRetryAll: '重试这一组的 {0} 条拒收记录？',
  loadedOf: '已载入 {0} 条', group: '分组',
  summary: '冲突概况', resource: '资源', golden: '现值部门', challenger: '挑战部门', open: '待处理',
  resolveOne: '裁决', resolveBulk: '批量裁决', decision: '裁决', keepGolden: '保留现值', takeChallenger: '采用挑战值',
  setValue: '设为新值', value: '值', reason: '理由（必填）', dryRun: '试算', matched: '匹配 {0} 条，将改变 {1} 条',
  history: '裁决历史', by: '裁决人', at: '时间', openList: '待处理冲突', goldenValue: '现值', challengerValue: '挑战值',
  status: '状态', resolved: '已裁决', superseded: '已失效',
  pickMapping: '选择映射', pasteMapping: '映射文本（JSON5）', sampleFile: '样例文件', sampleFormat: '样例格式',
  encoding: '编码', fromMapping: '按映射', validate: '校验并试运行', valid: '校验通过', invalid: '校验未通过',
  line: '行', column: '列', path: '路径', dryRunReport: '试运行报告', adaptersMappings: '各接入使用的映射', version: '版本',
  noProblems: '没有问题', reveal: '显示原值',
  name: '名称', purpose: '用途（法律依据）', resources: '资源', area: '区域（区划代码前缀，逗号分隔）', delivery: '投递方式',
  areaShort: '区域', pull: '拉取', webhook: 'Webhook', url: '地址', preview: '预览披露范围', create: '创建订阅', redeliver: '重新投递',
  after: '从位置之后', deliveredPosition: '已投递位置', lagEvents: '落后事件', lastDelivery: '最近投递',
  tokenOnce: '订阅令牌（只显示这一次，请立即保存）：', policy: '披露方式', plain: '原值', masked: '脱敏',
  pseudonymized: '假名化', omitted: '不提供', sensitivity: '敏感级别', wholeHub: '全部区域', newSubscription: '新建订阅',
  previewFirst: '先预览，确认披露范围后再创建。', areaFields: '区域依据字段',
  sensitivity_public: '公开', sensitivity_internal: '内部', sensitivity_sensitive: '敏感', sensitivity_special: '特别敏感',
  lookup: '查询', identityKey: '身份键（公民身份号码等）', provenance: '来源', observedAt: '采集时间',
  versions: '历史版本', maskedNote: '敏感字段已脱敏。显示原值会记入审计日志。', revealPurpose: '查看原因（记入审计）',
  revealed: '已显示原值（已记入审计日志）', notFound: '未找到', current: '当前',
  actor: '对象（如 subscription:sub_…、admin）', entity: '实体 ID', since: '起始时间', until: '截止时间', search: '搜索',
  channel: '渠道', entities: '实体数', fields: '字段', more: '更多', time: '时间',
  total: '合计', newFact: '新事实', confirmation: '印证', authorityChange: '权威变更', disagreement: '不一致', reuseShare: '复用比例',
  recordOnceNA: '本中心尚未提供“最多录一次”统计（/v1/stats/record-once）。',
  Person: '居民', Household: '户', Address: '地址', Organization: '单位', SocialInsuranceEnrollment: '社保参保',
  SubsistenceAllowance: '低保', Disability: '残疾', HealthSummary: '健康摘要',
};

const en = {
  title: 'RecordOnce · the whole district on one screen', brand: 'RecordOnce console', skip: 'Skip to content', nav: 'Main navigation', langSwitch: '中文', signOut: 'Sign out',
  signInTitle: 'Admin sign-in', tokenLabel: 'Admin token', signIn: 'Sign in',
  signInHint: 'The token is in admin.token in the data folder; it is kept for this tab only (closing it forgets it).',
  signInFailed: 'Sign-in failed: {0}',
  overview: 'Overview', departments: 'Departments', rejects: 'Rejects', conflicts: 'Conflicts', matches: 'Match review',
  mappings: 'Mappings', subscriptions: 'Subscriptions', records: 'Records', audit: 'Audit',
  loading: 'Loading…', error: 'Error: {0}', notAvailable: 'Not available on this hub', notAvailableMatch:
    'This hub has no match review API (identity matching is not built yet). When the hub offers /v1/matches, this page will show a record beside its candidates.',
  notAvailableRoute: 'This hub does not serve {0}.',
  refreshed: 'Updated {0}', live: 'Live (every 5 s)', paused: 'Refresh paused',
  secondsAgo: '{0} s ago', minutesAgo: '{0} min ago', hoursAgo: '{0} h ago', seconds: '{0} s', minutes: '{0} min', hours: '{0} h',
  resourceCounts: 'Records by resource', changeHead: 'Change events', openRejects: 'Open rejects', openConflicts: 'Open conflicts',
  openMatches: 'Open match cases', subscriptionsActive: 'Active subscriptions', eventsPerMinute: 'Change events per minute, last hour',
  eventsTotal: '{0} in all', departmentsTitle: 'Departments', subscriptionLag: 'Subscription delivery', recordOnce: 'Record once',
  districtView: 'The district', shadeBy: 'Shade by', shadeResidents: 'Residents', shadeChanges: 'Changes, last hour',
  districtAll: 'Whole district', backToDistrict: 'Back to the district', community: 'Community', street: 'Street', residents: 'Residents',
  changesHour: 'Changes, last hour', unplaced: 'Not placed in a community',
  byField_community_code: 'by current community', byField_registered_division: 'by registered division', code: 'Division code',
  adapter: 'Adapter', department: 'Department', kind: 'Kind', state: 'State', recordsIn: 'In', accepted: 'Accepted', rejected: 'Rejected',
  unchanged: 'Unchanged', lag: 'Since last success', lagShort: 'Lag', lastError: 'Last error', checkpoint: 'Checkpoint', actions: 'Actions', counters: 'Counters',
  running: 'running', degraded: 'degraded', failing: 'failing', pausedState: 'paused', push: 'push',
  pause: 'Pause', resume: 'Resume', runNow: 'Run now', rewind: 'Rewind checkpoint', declaration: 'Declaration',
  confirm: 'Confirm', cancel: 'Cancel', close: 'Close',
  confirmPause: 'Pause adapter {0}? It is not pulled and its pushes are refused until resumed.', confirmResume: 'Resume adapter {0}?',
  confirmRun: 'Run adapter {0} now?', rewindTo: 'Rewind to checkpoint (empty: start over)',
  confirmRewind: 'Rewind the checkpoint of {0}? Records already stored do not produce change events again.',
  done: 'Done', nextRun: 'Next run', lastSuccess: 'Last success', mapping: 'Mapping', mappingProblems: 'Mapping problems',
  rule: 'Rule', count: 'Count', examples: 'Example positions', retry: 'Retry', retryAll: 'Retry all', problems: 'Problems', position: 'Position',
  field: 'Field', message: 'Message', severity: 'Severity', sourceKey: 'Source key', created: 'Time',
  retried: 'Retried {0}: accepted {1}, still rejected {2}', confirmRetryAll: 'Retry the {0} rejects of this group?',
  loadedOf: '{0} loaded', group: 'Group',
  summary: 'Summary', resource: 'Resource', golden: 'Golden department', challenger: 'Challenger', open: 'Open',
  resolveOne: 'Resolve', resolveBulk: 'Resolve all', decision: 'Decision', keepGolden: 'Keep golden', takeChallenger: 'Take challenger',
  setValue: 'Set value', value: 'Value', reason: 'Reason (required)', dryRun: 'Dry run', matched: '{0} match, {1} would change',
  history: 'History of decisions', by: 'By', at: 'At', openList: 'Open conflicts', goldenValue: 'Golden value', challengerValue: 'Challenger value',
  status: 'Status', resolved: 'resolved', superseded: 'superseded',
  pickMapping: 'Pick a mapping', pasteMapping: 'Mapping text (JSON5)', sampleFile: 'Sample file', sampleFormat: 'Sample format',
  encoding: 'Encoding', fromMapping: 'from the mapping', validate: 'Validate and dry-run', valid: 'Valid', invalid: 'Not valid',
  line: 'Line', column: 'Column', path: 'Path', dryRunReport: 'Dry-run report', adaptersMappings: 'Mappings in use', version: 'Version',
  noProblems: 'No problems', reveal: 'Reveal',
  name: 'Name', purpose: 'Purpose (legal basis)', resources: 'Resources', area: 'Area (division-code prefixes, comma separated)', delivery: 'Delivery',
  areaShort: 'Area', pull: 'Pull', webhook: 'Webhook', url: 'URL', preview: 'Preview what it discloses', create: 'Create subscription', redeliver: 'Redeliver',
  after: 'After position', deliveredPosition: 'Delivered up to', lagEvents: 'Behind (events)', lastDelivery: 'Last delivery',
  tokenOnce: 'Subscription token (shown this once, save it now):', policy: 'Disclosed as', plain: 'plain', masked: 'masked',
  pseudonymized: 'pseudonymized', omitted: 'omitted', sensitivity: 'Sensitivity', wholeHub: 'whole hub', newSubscription: 'New subscription',
  previewFirst: 'Preview first; create once the disclosure is right.', areaFields: 'Placed by',
  sensitivity_public: 'public', sensitivity_internal: 'internal', sensitivity_sensitive: 'sensitive', sensitivity_special: 'special',
  lookup: 'Look up', identityKey: 'Identity key (citizen ID number, ...)', provenance: 'Provenance', observedAt: 'Observed',
  versions: 'Versions', maskedNote: 'Sensitive fields are masked. Revealing them is written to the audit log.', revealPurpose: 'Why (written to the audit log)',
  revealed: 'Revealed (written to the audit log)', notFound: 'Not found', current: 'current',
  actor: 'Actor (subscription:sub_…, admin)', entity: 'Entity id', since: 'Since', until: 'Until', search: 'Search',
  channel: 'Channel', entities: 'Entities', fields: 'Fields', more: 'More', time: 'Time',
  total: 'Total', newFact: 'New facts', confirmation: 'Confirmed', authorityChange: 'Authority changes', disagreement: 'Disagreed', reuseShare: 'Reused',
  recordOnceNA: 'This hub does not offer record-once figures (/v1/stats/record-once) yet.',
  Person: 'Residents', Household: 'Households', Address: 'Addresses', Organization: 'Organizations', SocialInsuranceEnrollment: 'Insurance enrollments',
  SubsistenceAllowance: 'Allowances', Disability: 'Disabilities', HealthSummary: 'Health summaries',
};

const dictionaries = { zh, en };
let current = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';

export function lang() { return current; }
export function setLang(value) { current = value === 'en' ? 'en' : 'zh'; localStorage.setItem(LANG_KEY, current); }

/** The label for `key` in the current language, with {0}, {1}... filled in. */
export function t(key, ...args) {
  const text = dictionaries[current][key] ?? dictionaries.zh[key] ?? key;
  return text.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ''));
}

/** A catalog label object {zh, en} in the current language. */
export function localized(label) {
  if (!label) return '';
  return (current === 'en' ? label.en : label.zh) || label.zh || label.en || '';
}
