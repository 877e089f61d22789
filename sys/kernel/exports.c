// SPDX-License-Identifier: GPL-2.0
/*
 * The one export list of xseg.ko: <xseg/xseg.h>, <xseg/idc.h>, <xseg/inspect.h>,
 * <xseg/xseg_kernel.h>.
 */
#include <linux/export.h>

#include <xseg/idc.h>
#include <xseg/inspect.h>
#include <xseg/xseg.h>
#include <xseg/xseg_kernel.h>

EXPORT_SYMBOL_GPL(xseg_accept);
EXPORT_SYMBOL_GPL(xseg_bind_port);
EXPORT_SYMBOL_GPL(xseg_cancel_wait);
EXPORT_SYMBOL_GPL(xseg_config_default);
EXPORT_SYMBOL_GPL(xseg_count_requests);
EXPORT_SYMBOL_GPL(xseg_create);
EXPORT_SYMBOL_GPL(xseg_destroy);
EXPORT_SYMBOL_GPL(xseg_forward);
EXPORT_SYMBOL_GPL(xseg_get_info);
EXPORT_SYMBOL_GPL(xseg_get_port_info);
EXPORT_SYMBOL_GPL(xseg_get_request);
EXPORT_SYMBOL_GPL(xseg_get_signal_desc);
EXPORT_SYMBOL_GPL(xseg_get_stats);
EXPORT_SYMBOL_GPL(xseg_init_mem);
EXPORT_SYMBOL_GPL(xseg_join);
EXPORT_SYMBOL_GPL(xseg_join_mem);
EXPORT_SYMBOL_GPL(xseg_kcallback_clear);
EXPORT_SYMBOL_GPL(xseg_kcallback_kick);
EXPORT_SYMBOL_GPL(xseg_kcallback_set);
EXPORT_SYMBOL_GPL(xseg_kernel_create);
EXPORT_SYMBOL_GPL(xseg_kernel_join);
EXPORT_SYMBOL_GPL(xseg_kernel_stats);
EXPORT_SYMBOL_GPL(xseg_leave);
EXPORT_SYMBOL_GPL(xseg_leave_port);
EXPORT_SYMBOL_GPL(xseg_local_signal_init);
EXPORT_SYMBOL_GPL(xseg_local_signal_quit);
EXPORT_SYMBOL_GPL(xseg_prep_request);
EXPORT_SYMBOL_GPL(xseg_prepare_wait);
EXPORT_SYMBOL_GPL(xseg_put_request);
EXPORT_SYMBOL_GPL(xseg_put_signal_desc);
EXPORT_SYMBOL_GPL(xseg_receive);
EXPORT_SYMBOL_GPL(xseg_reclaim);
EXPORT_SYMBOL_GPL(xseg_register_signal_type);
EXPORT_SYMBOL_GPL(xseg_req_data);
EXPORT_SYMBOL_GPL(xseg_req_index);
EXPORT_SYMBOL_GPL(xseg_req_state_name);
EXPORT_SYMBOL_GPL(xseg_req_target);
EXPORT_SYMBOL_GPL(xseg_respond);
EXPORT_SYMBOL_GPL(xseg_segdev_kbackend);
EXPORT_SYMBOL_GPL(xseg_segment_size);
EXPORT_SYMBOL_GPL(xseg_signal);
EXPORT_SYMBOL_GPL(xseg_signal_desc_index);
EXPORT_SYMBOL_GPL(xseg_submit);
EXPORT_SYMBOL_GPL(xseg_unregister_signal_type);
EXPORT_SYMBOL_GPL(xseg_wait_signal);

/* the endpoint API */
EXPORT_SYMBOL_GPL(xseg_endpoint_connected);
EXPORT_SYMBOL_GPL(xseg_endpoint_create);
EXPORT_SYMBOL_GPL(xseg_endpoint_destroy);
EXPORT_SYMBOL_GPL(xseg_endpoint_disconnect);
EXPORT_SYMBOL_GPL(xseg_endpoint_state);
EXPORT_SYMBOL_GPL(xseg_endpoint_submit_message);
EXPORT_SYMBOL_GPL(xseg_endpoint_submit_transaction);
EXPORT_SYMBOL_GPL(xseg_idc_buffer_alloc);
EXPORT_SYMBOL_GPL(xseg_idc_buffer_free);
EXPORT_SYMBOL_GPL(xseg_idc_fini);
EXPORT_SYMBOL_GPL(xseg_idc_init);
EXPORT_SYMBOL_GPL(xseg_idc_lookup);
EXPORT_SYMBOL_GPL(xseg_idc_message_complete);
EXPORT_SYMBOL_GPL(xseg_idc_poll);
EXPORT_SYMBOL_GPL(xseg_idc_receive_from_remote_buffer);
EXPORT_SYMBOL_GPL(xseg_idc_register_buffer);
EXPORT_SYMBOL_GPL(xseg_idc_send_to_remote_buffer);
EXPORT_SYMBOL_GPL(xseg_idc_service_register);
EXPORT_SYMBOL_GPL(xseg_idc_service_unregister);
EXPORT_SYMBOL_GPL(xseg_idc_transaction_complete);
EXPORT_SYMBOL_GPL(xseg_idc_transaction_query_error);
EXPORT_SYMBOL_GPL(xseg_idc_unregister_buffer);
EXPORT_SYMBOL_GPL(xseg_idc_wait);
